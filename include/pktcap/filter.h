/**
 * @file filter.h
 * @brief Capture filters: written once, evaluated locally and rendered for
 *        libpcap, Azure Network Watcher, Cloudflare Magic Transit and Citrix SD-WAN.
 *
 * A filter is a list of **rules**; a packet matches the filter when it matches
 * any rule (an empty filter matches every packet). A rule has a protocol
 * (TCP, UDP or any) and four optional **fields** — local address, remote
 * address, local port, remote port — and a packet matches it when it matches
 * every field that is set. Local and remote are direction-free: a packet
 * matches when it goes local → remote *or* remote → local. Each field holds
 * one or more items, each a single value or an inclusive range; CIDR blocks
 * are accepted and stored as ranges.
 *
 * Build a filter rule by rule with the typed setters, or parse the one-line
 * syntax described in `doc/filters.md`:
 *
 * @code
 * pktcap_filter *f;
 * if (pktcap_filter_parse(&f, "proto=tcp local=10.0.0.1-10.0.0.9 remote_port=80;443 "
 *                             "or proto=udp remote=2001:db8::/64") < 0) {
 *     fprintf(stderr, "%s\n", pktcap_error_message(pktcap_error_last()));
 *     return 1;
 * }
 * char *bpf;
 * if (pktcap_filter_to_bpf(&bpf, f, 1) == 0) {   // 1 = LINKTYPE_ETHERNET
 *     puts(bpf);
 *     pktcap_free(bpf);
 * }
 * pktcap_filter_free(f);
 * @endcode
 *
 * Instead of rules a filter may hold a raw BPF expression
 * (pktcap_filter_new_bpf()); such a filter serves local and SD-WAN captures
 * only.
 *
 * A filter is not modified by pktcap_filter_match() or the renderers: one
 * filter may be used from several threads at once as long as no thread
 * changes it.
 */
#ifndef PKTCAP_FILTER_H
#define PKTCAP_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include <pktcap/common.h>
#include <pktcap/file.h>

PKTCAP_BEGIN_DECLS

/** @brief An opaque capture filter. */
typedef struct pktcap_filter pktcap_filter;

/** @brief The protocol of a rule (values are IP protocol numbers). */
typedef enum pktcap_filter_protocol_t {
    PKTCAP_FILTER_ANY = 0,  /**< Any IP packet; with ports set, TCP or UDP. */
    PKTCAP_FILTER_TCP = 6,  /**< TCP. */
    PKTCAP_FILTER_UDP = 17  /**< UDP. */
} pktcap_filter_protocol_t;

/** @brief The four fields of a rule. */
typedef enum pktcap_filter_field_t {
    PKTCAP_FILTER_LOCAL_ADDRESS = 0,  /**< Local IPv4/IPv6 address(es). */
    PKTCAP_FILTER_REMOTE_ADDRESS = 1, /**< Remote IPv4/IPv6 address(es). */
    PKTCAP_FILTER_LOCAL_PORT = 2,     /**< Local TCP/UDP port(s). */
    PKTCAP_FILTER_REMOTE_PORT = 3     /**< Remote TCP/UDP port(s). */
} pktcap_filter_field_t;

/** @brief Most rules in one filter (more: ::PKTCAP_E_LIMIT). */
#define PKTCAP_FILTER_MAX_RULES 100
/** @brief Most items (values or ranges) in one field (more: ::PKTCAP_E_LIMIT). */
#define PKTCAP_FILTER_MAX_ITEMS 256
/** @brief Longest raw BPF expression accepted, in bytes. */
#define PKTCAP_FILTER_MAX_BPF 65536

/**
 * @brief Create an empty filter: no rules, matches every packet.
 * @param[out] out the new filter; untouched on failure.
 * @return 0, ::PKTCAP_E_INVAL or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_new(pktcap_filter **out);

/**
 * @brief Parse the one-line filter syntax (`doc/filters.md`).
 *
 * Rules are separated by the word `or`; a rule is a list of `key=value`
 * terms separated by blanks, keys `proto`, `local`, `remote`, `local_port`,
 * `remote_port`; values use Azure's notation (`80`, `80-443`, `80;443;`) plus
 * CIDR for addresses. An empty or all-blank text is the empty filter.
 * `bpf:EXPR` makes a raw-BPF filter as pktcap_filter_new_bpf() does.
 *
 * @param[out] out the new filter; untouched on failure.
 * @param text the filter text (UTF-8, NUL-terminated).
 * @return 0; ::PKTCAP_E_INVAL with a message naming the rule, the field and the
 *         offending text; ::PKTCAP_E_LIMIT past ::PKTCAP_FILTER_MAX_RULES or
 *         ::PKTCAP_FILTER_MAX_ITEMS; ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_parse(pktcap_filter **out, const char *text);

/**
 * @brief Create a filter that holds a raw BPF expression.
 *
 * The expression is checked with libpcap's `pcap_compile()` for Ethernet
 * (LINKTYPE 1). Such a filter can be matched locally and rendered for libpcap
 * and SD-WAN; the Azure and Cloudflare renderings refuse it.
 *
 * @param[out] out the new filter; untouched on failure.
 * @param expression a tcpdump-style filter expression (not empty).
 * @return 0; ::PKTCAP_E_INVAL with libpcap's message; ::PKTCAP_E_LIMIT past
 *         ::PKTCAP_FILTER_MAX_BPF; ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_new_bpf(pktcap_filter **out, const char *expression);

/**
 * @brief Copy a filter.
 * @param[out] out the copy; untouched on failure.
 * @param filter the filter to copy.
 * @return 0, ::PKTCAP_E_INVAL or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_dup(pktcap_filter **out, const pktcap_filter *filter);

/**
 * @brief Free a filter.
 * @param filter the filter; NULL is accepted.
 */
PKTCAP_API void pktcap_filter_free(pktcap_filter *filter);

/**
 * @brief Append a rule that matches every packet of @p protocol (fields unset).
 *
 * The new rule's index is pktcap_filter_rule_count() − 1.
 *
 * @param filter a rule filter (not a raw-BPF one: ::PKTCAP_E_STATE).
 * @param protocol a ::pktcap_filter_protocol_t.
 * @return 0, ::PKTCAP_E_INVAL (unknown protocol), ::PKTCAP_E_STATE,
 *         ::PKTCAP_E_LIMIT or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_add_rule(pktcap_filter *filter, int protocol);

/**
 * @brief Number of rules.
 * @param filter the filter.
 * @return the count; 0 for the empty filter, a raw-BPF filter and NULL.
 */
PKTCAP_API size_t pktcap_filter_rule_count(const pktcap_filter *filter);

/**
 * @brief Change the protocol of a rule.
 * @param filter the filter.
 * @param rule index of the rule.
 * @param protocol a ::pktcap_filter_protocol_t.
 * @return 0, ::PKTCAP_E_INVAL (unknown protocol or rule index) or ::PKTCAP_E_STATE
 *         (a raw-BPF filter).
 */
PKTCAP_API int pktcap_filter_set_protocol(pktcap_filter *filter, size_t rule, int protocol);

/**
 * @brief The protocol of a rule.
 * @param filter the filter.
 * @param rule index of the rule.
 * @return a ::pktcap_filter_protocol_t, or ::PKTCAP_E_INVAL for a bad index.
 */
PKTCAP_API int pktcap_filter_rule_protocol(const pktcap_filter *filter, size_t rule);

/**
 * @brief Set a field from its notation, replacing what it held.
 *
 * Notation as in Azure's API: a single value (`10.0.0.1`, `80`), a range
 * (`10.0.0.1-10.0.0.9`, `80-443`) or a list (`10.0.0.1;10.0.0.5;`,
 * `80;443;`; the trailing `;` is optional); addresses may also be CIDR blocks
 * (`10.0.0.0/8`, `2001:db8::/64`) and list items may be ranges. NULL or ""
 * clears the field (any value).
 *
 * @param filter the filter.
 * @param rule index of the rule.
 * @param field a ::pktcap_filter_field_t.
 * @param notation the value(s).
 * @return 0; ::PKTCAP_E_INVAL with a message naming the field and the
 *         offending text; ::PKTCAP_E_LIMIT; ::PKTCAP_E_STATE; ::PKTCAP_E_NOMEM.
 *         The field is unchanged on failure.
 */
PKTCAP_API int pktcap_filter_set_field(pktcap_filter *filter, size_t rule, int field,
                                       const char *notation);

/**
 * @brief Add one address item to an address field.
 * @param filter the filter.
 * @param rule index of the rule.
 * @param field ::PKTCAP_FILTER_LOCAL_ADDRESS or ::PKTCAP_FILTER_REMOTE_ADDRESS.
 * @param first an IPv4 or IPv6 address, or a CIDR block when @p last is NULL.
 * @param last the end of the range (same family, not below @p first), or NULL.
 * @return 0, ::PKTCAP_E_INVAL, ::PKTCAP_E_LIMIT, ::PKTCAP_E_STATE or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_add_address(pktcap_filter *filter, size_t rule, int field,
                                         const char *first, const char *last);

/**
 * @brief Add one port item (a port, or the range @p first … @p last) to a port field.
 * @param filter the filter.
 * @param rule index of the rule.
 * @param field ::PKTCAP_FILTER_LOCAL_PORT or ::PKTCAP_FILTER_REMOTE_PORT.
 * @param first first port, 0 … 65535.
 * @param last last port, @p first … 65535 (equal to @p first for one port).
 * @return 0, ::PKTCAP_E_INVAL, ::PKTCAP_E_LIMIT, ::PKTCAP_E_STATE or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_add_port(pktcap_filter *filter, size_t rule, int field,
                                      uint32_t first, uint32_t last);

/**
 * @brief A field in the canonical notation of the one-line syntax
 *        (`10.0.0.0/8;10.1.2.3`, `80;443`), "" when unset.
 * @param[out] out an allocated string; release with pktcap_free().
 * @param filter the filter.
 * @param rule index of the rule.
 * @param field a ::pktcap_filter_field_t.
 * @return 0, ::PKTCAP_E_INVAL or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_field(char **out, const pktcap_filter *filter, size_t rule,
                                   int field);

/**
 * @brief The raw BPF expression of a filter.
 * @param filter the filter.
 * @return the expression of a filter made by pktcap_filter_new_bpf(), else NULL.
 */
PKTCAP_API const char *pktcap_filter_bpf_expression(const pktcap_filter *filter);

/**
 * @brief Compare two filters rule by rule and field by field.
 * @param a a filter.
 * @param b another filter.
 * @return 1 when equal, 0 when not (or either is NULL).
 */
PKTCAP_API int pktcap_filter_equal(const pktcap_filter *a, const pktcap_filter *b);

/**
 * @brief Does a packet match the filter?
 *
 * Evaluated in user space exactly as libpcap evaluates the BPF rendering
 * (pktcap_filter_to_bpf()) on the same link type: Ethernet with up to two
 * VLAN tags, Linux cooked (v1, v2), raw IP, IPv4, IPv6 and BSD loopback
 * captures. `doc/filters.md` states the rules precisely (fragments, IPv6
 * extension headers, packets cut short).
 *
 * @param filter the filter.
 * @param packet the packet (its `linktype`, `caplen` and `data` are read).
 * @return 1 on a match, 0 otherwise; ::PKTCAP_E_NOTSUP when the filter has
 *         rules and the link type is none of the above; ::PKTCAP_E_INVAL.
 */
PKTCAP_API int pktcap_filter_match(const pktcap_filter *filter, const pktcap_packet *packet);

/**
 * @brief The filter in the one-line syntax; pktcap_filter_parse() of it gives
 *        an equal filter.
 * @param[out] out an allocated string ("" for the empty filter); release with pktcap_free().
 * @param filter the filter.
 * @return 0, ::PKTCAP_E_INVAL or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_to_string(char **out, const pktcap_filter *filter);

/**
 * @brief Render the filter as a libpcap (tcpdump) filter expression.
 *
 * "" for a filter that matches everything. On Ethernet-like link types the
 * expression also matches the same traffic inside one or two VLAN tags.
 *
 * @param[out] out an allocated string; release with pktcap_free().
 * @param filter the filter.
 * @param linktype the LINKTYPE_* the expression will be compiled for (1 = Ethernet).
 * @return 0, ::PKTCAP_E_INVAL or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_to_bpf(char **out, const pktcap_filter *filter, uint32_t linktype);

/**
 * @brief Render the filter as Azure Network Watcher's `filters` array (JSON text).
 *
 * `[]` for the empty filter; one object per rule with `protocol` ("TCP",
 * "UDP", "Any") and the fields that are set (`localIPAddress`,
 * `remoteIPAddress`, `localPort`, `remotePort`) in Azure's notation.
 *
 * @param[out] out an allocated string; release with pktcap_free().
 * @param filter the filter.
 * @return 0; ::PKTCAP_E_NOTSUP for a raw-BPF filter, a field holding more than
 *         one range, or a range mixed with a list (Azure supports neither);
 *         ::PKTCAP_E_INVAL; ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_to_azure(char **out, const pktcap_filter *filter);

/**
 * @brief Render the filter as Cloudflare Magic Transit's `filter_v1` object (JSON text).
 *
 * Magic Transit captures traffic arriving at the customer's network, so a
 * rule's remote side becomes the `source_*` fields and its local side the
 * `destination_*` fields; `protocol` is the IP protocol number. `{}` for the
 * empty filter.
 *
 * @param[out] out an allocated string; release with pktcap_free().
 * @param filter the filter.
 * @return 0; ::PKTCAP_E_NOTSUP, with a message naming what cannot be
 *         expressed, for more than one rule, a range or list in a field, or a
 *         raw-BPF filter; ::PKTCAP_E_INVAL; ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_to_cloudflare(char **out, const pktcap_filter *filter);

/**
 * @brief Render the filter as the Citrix SD-WAN `filter_str` (a tcpdump-style expression).
 *
 * The rules as a plain tcpdump expression, as a person would write them —
 * pktcap_filter_to_bpf() for Ethernet without its guard against packets cut
 * short and without its VLAN alternatives, which a live capture does not
 * need — or the raw expression of a raw-BPF filter. The local engine
 * installs the same plain form in the kernel.
 *
 * @param[out] out an allocated string; release with pktcap_free().
 * @param filter the filter.
 * @return 0, ::PKTCAP_E_INVAL or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_filter_to_sdwan(char **out, const pktcap_filter *filter);

/**
 * @brief Release a string or buffer that libpktcap allocated for the caller.
 * @param p what a `pktcap_*` function returned through a `char **out`; NULL is accepted.
 */
PKTCAP_API void pktcap_free(void *p);

PKTCAP_END_DECLS

#endif /* PKTCAP_FILTER_H */
