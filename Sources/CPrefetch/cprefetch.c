// Header-only module (include/cprefetch.h): SwiftPM wants one translation unit per C target.
#include "cprefetch.h"
