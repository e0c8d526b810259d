"""Static TensorRT compatibility check of ONNX graphs.

TensorRT may not be installed where models are exported, so the exporter checks
every node against the operators TensorRT's ONNX parser lists as supported in
its published operator-support table (TensorRT 10.x, opsets up to 20).
Restrictions that matter for this network are checked too.
"""

from __future__ import annotations

from typing import Any

TRT_SUPPORTED_OPS = frozenset("""
Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization
BlackmanWindow Cast CastLike Ceil Celu Clip Concat Constant ConstantOfShape Conv ConvTranspose
Cos Cosh CumSum DeformConv DepthToSpace DequantizeLinear Div Dropout Einsum Elu Equal Erf Exp
Expand EyeLike Flatten Floor Gather GatherElements GatherND Gelu Gemm GlobalAveragePool
GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample GroupNormalization GRU HammingWindow
HannWindow HardSigmoid HardSwish Hardmax Identity If InstanceNormalization IsInf IsNaN
LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax Loop LpNormalization LpPool LRN
LSTM MatMul Max MaxPool Mean MeanVarianceNormalization Min Mish Mod Mul Neg NonMaxSuppression
NonZero Not OneHot Or Pad ParametricSoftplus Pow PRelu QuantizeLinear RandomNormal
RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal ReduceL1 ReduceL2
ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
ReduceSumSquare Relu Reshape Resize ReverseSequence RNN RoiAlign Round ScaledTanh Scan Scatter
ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax Softplus
Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK Transpose
Trilu Unique Unsqueeze Upsample Where Xor
""".split())

# Listed by TensorRT as unsupported; named so the report can say why.
TRT_UNSUPPORTED_NOTES = {
    "DFT": "no DFT layer: write the transform as MatMul with fixed DFT matrices",
    "STFT": "no STFT layer",
    "ConvInteger": "not supported", "MatMulInteger": "not supported",
    "SequenceAt": "sequence ops are not supported", "SplitToSequence": "not supported",
}
MAX_OPSET = 20


def check_graph(model: Any) -> list[str]:
    """Problems that would stop TensorRT's ONNX parser; empty when the graph is fine."""
    problems = []
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                default=0)
    if opset > MAX_OPSET:
        problems.append(f"opset {opset} is newer than the checked TensorRT table ({MAX_OPSET})")
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx"):
            problems.append(f"{node.name or node.op_type}: custom domain {node.domain!r}")
        elif node.op_type not in TRT_SUPPORTED_OPS:
            why = TRT_UNSUPPORTED_NOTES.get(node.op_type, "not in TensorRT's operator table")
            problems.append(f"{node.name or node.op_type}: {node.op_type} ({why})")
        elif node.op_type == "Clip" and len(node.input) > 1:
            inits = {i.name for i in model.graph.initializer}
            consts = {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
            for name in node.input[1:]:
                if name and name not in inits | consts:
                    problems.append(f"{node.name}: Clip bounds must be initializers")
    return problems
