/**
 * @file common.h
 * @brief Macros shared by every libpktcap public header.
 *
 * Nothing here is called directly: the macros mark exported functions and
 * keep the headers usable from C++.
 */
#ifndef PKTCAP_COMMON_H
#define PKTCAP_COMMON_H

/** @cond PKTCAP_INTERNAL */
#if defined(PKTCAP_BUILDING_LIBRARY) && defined(__GNUC__)
#  define PKTCAP_API __attribute__((visibility("default")))
#else
#  define PKTCAP_API
#endif

#ifdef __cplusplus
#  define PKTCAP_BEGIN_DECLS extern "C" {
#  define PKTCAP_END_DECLS }
#else
#  define PKTCAP_BEGIN_DECLS
#  define PKTCAP_END_DECLS
#endif
/** @endcond */

#endif /* PKTCAP_COMMON_H */
