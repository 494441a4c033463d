// The parts of the C ABI that need no Swift: static names, and freeing what the library malloc'd.
#include "metaengine.h"
#include <stdlib.h>

const char *me_code_name(int code) {
    switch (code) {
    case ME_OK: return "ME_OK";
    case ME_E_ARGUMENT: return "ME_E_ARGUMENT";
    case ME_E_CLOSED: return "ME_E_CLOSED";
    case ME_E_NOT_FOUND: return "ME_E_NOT_FOUND";
    case ME_E_COMPACTED: return "ME_E_COMPACTED";
    case ME_E_UNAVAILABLE: return "ME_E_UNAVAILABLE";
    case ME_E_NON_CONTIGUOUS: return "ME_E_NON_CONTIGUOUS";
    case ME_E_CORRUPT: return "ME_E_CORRUPT";
    case ME_E_IO: return "ME_E_IO";
    case ME_E_NO_SPACE: return "ME_E_NO_SPACE";
    case ME_E_LOCKED: return "ME_E_LOCKED";
    case ME_E_FAILED: return "ME_E_FAILED";
    case ME_E_BUFFER_TOO_SMALL: return "ME_E_BUFFER_TOO_SMALL";
    case ME_E_EXISTS: return "ME_E_EXISTS";
    case ME_E_FORMAT: return "ME_E_FORMAT";
    case ME_E_INTERNAL: return "ME_E_INTERNAL";
    case ME_E_WOULD_TRUNCATE_COMMITTED: return "ME_E_WOULD_TRUNCATE_COMMITTED";
    case ME_E_TIMED_OUT: return "ME_E_TIMED_OUT";
    default: return "ME_E_UNKNOWN";
    }
}

const char *me_version(void) { return "MetaEngineC 1"; }

void me_free(void *ptr) { free(ptr); }

void me_entries_free(me_entries *entries) {
    if (entries == NULL) return;
    free(entries->terms);
    free(entries->kinds);
    free(entries->offsets);
    free(entries->payload);
    free(entries);
}
