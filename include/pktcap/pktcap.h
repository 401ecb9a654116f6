/**
 * @file pktcap.h
 * @brief libpktcap: run packet captures wherever the packets are and bring back
 *        standard capture files. Include this one header.
 *
 * @mainpage libpktcap
 *
 * libpktcap is a C library with a stable ABI. Start with error.h (how every
 * call reports failure) and version.h; the user guide is in the project's
 * `doc/` folder.
 */
#ifndef PKTCAP_PKTCAP_H
#define PKTCAP_PKTCAP_H

#include <pktcap/common.h>
#include <pktcap/version.h>
#include <pktcap/error.h>
#include <pktcap/storage.h>
#include <pktcap/file.h>
#include <pktcap/summary.h>
#include <pktcap/filter.h>
#include <pktcap/session.h>
#include <pktcap/group.h>

#endif /* PKTCAP_PKTCAP_H */
