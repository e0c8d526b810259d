// Our own declarations of the OpenFX C ABI (the subset HaineiFRDM uses).
// Written from the published facts (names, struct field order, string values);
// no official header is included or copied.
#pragma once

#include <climits>
#include <cstddef>

extern "C" {

typedef int OfxStatus;
typedef double OfxTime;
typedef struct OfxPropertySetStruct* OfxPropertySetHandle;
typedef struct OfxImageEffectStruct* OfxImageEffectHandle;
typedef struct OfxImageClipStruct* OfxImageClipHandle;
typedef struct OfxImageMemoryStruct* OfxImageMemoryHandle;
typedef struct OfxParamStruct* OfxParamHandle;
typedef struct OfxParamSetStruct* OfxParamSetHandle;
typedef struct OfxMutex* OfxMutexHandle;

struct OfxRectI { int x1, y1, x2, y2; };
struct OfxRectD { double x1, y1, x2, y2; };
struct OfxPointD { double x, y; };
struct OfxRangeD { double min, max; };

struct OfxHost {
  OfxPropertySetHandle host;
  const void* (*fetchSuite)(OfxPropertySetHandle host, const char* suiteName, int suiteVersion);
};

typedef OfxStatus(OfxPluginEntryPoint)(const char* action, const void* handle,
                                       OfxPropertySetHandle inArgs, OfxPropertySetHandle outArgs);

struct OfxPlugin {
  const char* pluginApi;
  int apiVersion;
  const char* pluginIdentifier;
  unsigned int pluginVersionMajor;
  unsigned int pluginVersionMinor;
  void (*setHost)(OfxHost* host);
  OfxPluginEntryPoint* mainEntry;
};

struct OfxPropertySuiteV1 {
  OfxStatus (*propSetPointer)(OfxPropertySetHandle, const char*, int, void*);
  OfxStatus (*propSetString)(OfxPropertySetHandle, const char*, int, const char*);
  OfxStatus (*propSetDouble)(OfxPropertySetHandle, const char*, int, double);
  OfxStatus (*propSetInt)(OfxPropertySetHandle, const char*, int, int);
  OfxStatus (*propSetPointerN)(OfxPropertySetHandle, const char*, int, void* const*);
  OfxStatus (*propSetStringN)(OfxPropertySetHandle, const char*, int, const char* const*);
  OfxStatus (*propSetDoubleN)(OfxPropertySetHandle, const char*, int, const double*);
  OfxStatus (*propSetIntN)(OfxPropertySetHandle, const char*, int, const int*);
  OfxStatus (*propGetPointer)(OfxPropertySetHandle, const char*, int, void**);
  OfxStatus (*propGetString)(OfxPropertySetHandle, const char*, int, char**);
  OfxStatus (*propGetDouble)(OfxPropertySetHandle, const char*, int, double*);
  OfxStatus (*propGetInt)(OfxPropertySetHandle, const char*, int, int*);
  OfxStatus (*propGetPointerN)(OfxPropertySetHandle, const char*, int, void**);
  OfxStatus (*propGetStringN)(OfxPropertySetHandle, const char*, int, char**);
  OfxStatus (*propGetDoubleN)(OfxPropertySetHandle, const char*, int, double*);
  OfxStatus (*propGetIntN)(OfxPropertySetHandle, const char*, int, int*);
  OfxStatus (*propReset)(OfxPropertySetHandle, const char*);
  OfxStatus (*propGetDimension)(OfxPropertySetHandle, const char*, int*);
};

struct OfxImageEffectSuiteV1 {
  OfxStatus (*getPropertySet)(OfxImageEffectHandle, OfxPropertySetHandle*);
  OfxStatus (*getParamSet)(OfxImageEffectHandle, OfxParamSetHandle*);
  OfxStatus (*clipDefine)(OfxImageEffectHandle, const char*, OfxPropertySetHandle*);
  OfxStatus (*clipGetHandle)(OfxImageEffectHandle, const char*, OfxImageClipHandle*,
                             OfxPropertySetHandle*);
  OfxStatus (*clipGetPropertySet)(OfxImageClipHandle, OfxPropertySetHandle*);
  OfxStatus (*clipGetImage)(OfxImageClipHandle, OfxTime, const OfxRectD*, OfxPropertySetHandle*);
  OfxStatus (*clipReleaseImage)(OfxPropertySetHandle);
  OfxStatus (*clipGetRegionOfDefinition)(OfxImageClipHandle, OfxTime, OfxRectD*);
  int (*abort)(OfxImageEffectHandle);
  OfxStatus (*imageMemoryAlloc)(OfxImageEffectHandle, size_t, OfxImageMemoryHandle*);
  OfxStatus (*imageMemoryFree)(OfxImageMemoryHandle);
  OfxStatus (*imageMemoryLock)(OfxImageMemoryHandle, void**);
  OfxStatus (*imageMemoryUnlock)(OfxImageMemoryHandle);
};

struct OfxParameterSuiteV1 {
  OfxStatus (*paramDefine)(OfxParamSetHandle, const char*, const char*, OfxPropertySetHandle*);
  OfxStatus (*paramGetHandle)(OfxParamSetHandle, const char*, OfxParamHandle*,
                              OfxPropertySetHandle*);
  OfxStatus (*paramSetGetPropertySet)(OfxParamSetHandle, OfxPropertySetHandle*);
  OfxStatus (*paramGetPropertySet)(OfxParamHandle, OfxPropertySetHandle*);
  OfxStatus (*paramGetValue)(OfxParamHandle, ...);
  OfxStatus (*paramGetValueAtTime)(OfxParamHandle, OfxTime, ...);
  OfxStatus (*paramGetDerivative)(OfxParamHandle, OfxTime, ...);
  OfxStatus (*paramGetIntegral)(OfxParamHandle, OfxTime, OfxTime, ...);
  OfxStatus (*paramSetValue)(OfxParamHandle, ...);
  OfxStatus (*paramSetValueAtTime)(OfxParamHandle, OfxTime, ...);
  OfxStatus (*paramGetNumKeys)(OfxParamHandle, unsigned int*);
  OfxStatus (*paramGetKeyTime)(OfxParamHandle, unsigned int, OfxTime*);
  OfxStatus (*paramGetKeyIndex)(OfxParamHandle, OfxTime, int, int*);
  OfxStatus (*paramDeleteKey)(OfxParamHandle, OfxTime);
  OfxStatus (*paramDeleteAllKeys)(OfxParamHandle);
  OfxStatus (*paramCopy)(OfxParamHandle, OfxParamHandle, OfxTime, const OfxRangeD*);
  OfxStatus (*paramEditBegin)(OfxParamSetHandle, const char*);
  OfxStatus (*paramEditEnd)(OfxParamSetHandle);
};

struct OfxMemorySuiteV1 {
  OfxStatus (*memoryAlloc)(void*, size_t, void**);
  OfxStatus (*memoryFree)(void*);
};

typedef void(OfxThreadFunctionV1)(unsigned int threadIndex, unsigned int threadMax, void* arg);

struct OfxMultiThreadSuiteV1 {
  OfxStatus (*multiThread)(OfxThreadFunctionV1*, unsigned int, void*);
  OfxStatus (*multiThreadNumCPUs)(unsigned int*);
  OfxStatus (*multiThreadIndex)(unsigned int*);
  int (*multiThreadIsSpawnedThread)(void);
  OfxStatus (*mutexCreate)(OfxMutexHandle*, int);
  OfxStatus (*mutexDestroy)(const OfxMutexHandle);
  OfxStatus (*mutexLock)(const OfxMutexHandle);
  OfxStatus (*mutexUnLock)(const OfxMutexHandle);
  OfxStatus (*mutexTryLock)(const OfxMutexHandle);
};

struct OfxMessageSuiteV1 {
  OfxStatus (*message)(void*, const char*, const char*, const char*, ...);
};

struct OfxMessageSuiteV2 {
  OfxStatus (*message)(void*, const char*, const char*, const char*, ...);
  OfxStatus (*setPersistentMessage)(void*, const char*, const char*, const char*, ...);
  OfxStatus (*clearPersistentMessage)(void*);
};

struct OfxProgressSuiteV1 {
  OfxStatus (*progressStart)(void*, const char*);
  OfxStatus (*progressUpdate)(void*, double);
  OfxStatus (*progressEnd)(void*);
};

struct OfxProgressSuiteV2 {
  OfxStatus (*progressStart)(void*, const char*, const char*);
  OfxStatus (*progressUpdate)(void*, double);
  OfxStatus (*progressEnd)(void*);
};

}  // extern "C"

namespace ofx {

// status codes
constexpr OfxStatus kStatOK = 0;
constexpr OfxStatus kStatFailed = 1;
constexpr OfxStatus kStatErrFatal = 2;
constexpr OfxStatus kStatErrUnknown = 3;
constexpr OfxStatus kStatErrMissingHostFeature = 4;
constexpr OfxStatus kStatErrUnsupported = 5;
constexpr OfxStatus kStatErrExists = 6;
constexpr OfxStatus kStatErrBadHandle = 9;
constexpr OfxStatus kStatErrBadIndex = 10;
constexpr OfxStatus kStatErrValue = 11;
constexpr OfxStatus kStatReplyYes = 12;
constexpr OfxStatus kStatReplyNo = 13;
constexpr OfxStatus kStatReplyDefault = 14;
constexpr OfxStatus kStatErrMemory = 8;

// suites
constexpr const char* kPropertySuite = "OfxPropertySuite";
constexpr const char* kImageEffectSuite = "OfxImageEffectSuite";
constexpr const char* kParameterSuite = "OfxParameterSuite";
constexpr const char* kMemorySuite = "OfxMemorySuite";
constexpr const char* kMultiThreadSuite = "OfxMultiThreadSuite";
constexpr const char* kMessageSuite = "OfxMessageSuite";
constexpr const char* kProgressSuite = "OfxProgressSuite";

// actions
constexpr const char* kActionLoad = "OfxActionLoad";
constexpr const char* kActionUnload = "OfxActionUnload";
constexpr const char* kActionDescribe = "OfxActionDescribe";
constexpr const char* kActionCreateInstance = "OfxActionCreateInstance";
constexpr const char* kActionDestroyInstance = "OfxActionDestroyInstance";
constexpr const char* kActionDescribeInContext = "OfxImageEffectActionDescribeInContext";
constexpr const char* kActionGetRegionOfDefinition = "OfxImageEffectActionGetRegionOfDefinition";
constexpr const char* kActionGetFramesNeeded = "OfxImageEffectActionGetFramesNeeded";
constexpr const char* kActionIsIdentity = "OfxImageEffectActionIsIdentity";
constexpr const char* kActionRender = "OfxImageEffectActionRender";

// API, types, contexts, clips, depths, components
constexpr const char* kImageEffectPluginApi = "OfxImageEffectPluginAPI";
constexpr const char* kTypeImageEffectHost = "OfxTypeImageEffectHost";
constexpr const char* kContextFilter = "OfxImageEffectContextFilter";
constexpr const char* kContextGeneral = "OfxImageEffectContextGeneral";
constexpr const char* kOutputClip = "Output";
constexpr const char* kSourceClip = "Source";
constexpr const char* kBitDepthByte = "OfxBitDepthByte";
constexpr const char* kBitDepthShort = "OfxBitDepthShort";
constexpr const char* kBitDepthFloat = "OfxBitDepthFloat";
constexpr const char* kComponentRGBA = "OfxImageComponentRGBA";
constexpr const char* kComponentRGB = "OfxImageComponentRGB";
constexpr const char* kRenderInstanceSafe = "OfxImageEffectRenderInstanceSafe";

// properties
constexpr const char* kPropType = "OfxPropType";
constexpr const char* kPropName = "OfxPropName";
constexpr const char* kPropLabel = "OfxPropLabel";
constexpr const char* kPropTime = "OfxPropTime";
constexpr const char* kPropInstanceData = "OfxPropInstanceData";
constexpr const char* kPluginPropFilePath = "OfxPluginPropFilePath";
constexpr const char* kPropPluginDescription = "OfxPropPluginDescription";
constexpr const char* kPropSupportedContexts = "OfxImageEffectPropSupportedContexts";
constexpr const char* kPropSupportedPixelDepths = "OfxImageEffectPropSupportedPixelDepths";
constexpr const char* kPropSupportedComponents = "OfxImageEffectPropSupportedComponents";
constexpr const char* kPluginPropGrouping = "OfxImageEffectPluginPropGrouping";
constexpr const char* kPluginRenderThreadSafety = "OfxImageEffectPluginRenderThreadSafety";
constexpr const char* kPluginPropHostFrameThreading = "OfxImageEffectPluginPropHostFrameThreading";
constexpr const char* kPropSupportsTiles = "OfxImageEffectPropSupportsTiles";
constexpr const char* kPropTemporalClipAccess = "OfxImageEffectPropTemporalClipAccess";
constexpr const char* kPluginPropFieldRenderTwiceAlways =
    "OfxImageEffectPluginPropFieldRenderTwiceAlways";
constexpr const char* kPropContext = "OfxImageEffectPropContext";
constexpr const char* kPropPixelDepth = "OfxImageEffectPropPixelDepth";
constexpr const char* kPropComponents = "OfxImageEffectPropComponents";
constexpr const char* kPropFrameRange = "OfxImageEffectPropFrameRange";
constexpr const char* kPropRegionOfDefinition = "OfxImageEffectPropRegionOfDefinition";
constexpr const char* kPropRenderWindow = "OfxImageEffectPropRenderWindow";
constexpr const char* kPropRenderScale = "OfxImageEffectPropRenderScale";
constexpr const char* kImagePropData = "OfxImagePropData";
constexpr const char* kImagePropBounds = "OfxImagePropBounds";
constexpr const char* kImagePropRowBytes = "OfxImagePropRowBytes";
constexpr const char* kFrameRangeSource = "OfxImageClipPropFrameRange_Source";

// parameters
constexpr const char* kParamTypeInteger = "OfxParamTypeInteger";
constexpr const char* kParamTypeDouble = "OfxParamTypeDouble";
constexpr const char* kParamTypeBoolean = "OfxParamTypeBoolean";
constexpr const char* kParamTypeChoice = "OfxParamTypeChoice";
constexpr const char* kParamPropDefault = "OfxParamPropDefault";
constexpr const char* kParamPropMin = "OfxParamPropMin";
constexpr const char* kParamPropMax = "OfxParamPropMax";
constexpr const char* kParamPropDisplayMin = "OfxParamPropDisplayMin";
constexpr const char* kParamPropDisplayMax = "OfxParamPropDisplayMax";
constexpr const char* kParamPropHint = "OfxParamPropHint";
constexpr const char* kParamPropChoiceOption = "OfxParamPropChoiceOption";
constexpr const char* kParamPropAnimates = "OfxParamPropAnimates";

// messages
constexpr const char* kMessageError = "OfxMessageError";

}  // namespace ofx
