/* guiddef.h - for Linux: GUID, IID, REFIID and DEFINE_GUID (see amidl_types.h). */
#include "amidl_types.h"
