/* The run-time version: the numbers come from the generated version.h. */
#include <pktcap/version.h>

const char *pktcap_version(void)
{
    return PKTCAP_VERSION_STRING;
}

unsigned int pktcap_version_num(void)
{
    return PKTCAP_VERSION_NUM;
}
