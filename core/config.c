/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Config parser, upper half: the directives and their keys, cross-line validation, CPU roles. */
#include "core/config.h"

#include "core/config_lex.h"
#include "core/fmt.h"
#include "core/klib.h"

#define DEFAULT_CONSOLE_PORT 0x3f8
#define DEFAULT_AP_TIMEOUT_MS 1000
#define DEFAULT_RUN_TIMEOUT_MS 60000
#define DEFAULT_SPIN 100000
#define DEFAULT_SLEEP_US 100

/* A quoted value is never longer than its line, so args always fits. */
_Static_assert(sizeof(((struct cfg_partition *)0)->args) >= CFG_LINE_MAX + 1, "args buffer");

static const char *const service_names[SERVICE_COUNT] = {"pt", "irq", "io"};
static const char *const poll_names[] = {"spin", "adaptive"};
static const char *const log_names[] = {"debug", "info", "warn", "error"};
static const char *const shutdown_names[] = {"auto", "debug-exit", "reset", "halt"};
static const char *const lapic_names[] = {"passthrough"};
static const char *const yes_no[] = {"yes", "no"};
static const char *const on_off[] = {"on", "off"};

const char *service_name(enum service s)
{
    return (unsigned)s < SERVICE_COUNT ? service_names[s] : "?";
}

const char *poll_policy_name(enum poll_policy p)
{
    return (unsigned)p < ARRAY_SIZE(poll_names) ? poll_names[p] : "?";
}

/* ---- cpu sets ---- */

bool cpu_set_has(const struct cpu_set *s, unsigned cpu)
{
    return cpu < CONFIG_MAX_CPUS && (s->bits[cpu / 64] >> (cpu % 64) & 1);
}

void cpu_set_add(struct cpu_set *s, unsigned cpu)
{
    if (cpu < CONFIG_MAX_CPUS)
        s->bits[cpu / 64] |= 1ull << (cpu % 64);
}

unsigned cpu_set_count(const struct cpu_set *s)
{
    unsigned n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(s->bits); i++)
        for (uint64_t v = s->bits[i]; v; v &= v - 1)
            n++;
    return n;
}

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->console_port = DEFAULT_CONSOLE_PORT;
    cfg->log_level = LOG_INFO;
    cfg->ap_timeout_ms = DEFAULT_AP_TIMEOUT_MS;
    cfg->run_timeout_ms = DEFAULT_RUN_TIMEOUT_MS;
    cfg->shutdown = SHUTDOWN_AUTO;
    cfg->offline_cpu = -1;
    cfg->fault_cpu = -1;
    cfg->silent_cpu = -1;
    cfg->overflow_cpu = -1;
    cfg->log_fault_cpu = -1;
}

/* ---- the parser: one directive per line, its keys applied to a staging copy ---- */

/* The single-line directives' settings (console, boot, debug). */
struct top_settings {
    uint16_t console_port;
    enum log_level log_level;
    uint32_t ap_timeout_ms;
    enum shutdown_method shutdown;
    bool iommu_off;
    bool dump_acpi, dma_canaries;
    int offline_cpu, fault_cpu, silent_cpu;
    uint32_t run_timeout_ms;
    int overflow_cpu, log_fault_cpu;
    uint32_t slow_trap_ms;
};

struct stage {
    struct top_settings top;
    struct cfg_sidecore sc;
    struct cfg_partition part;
    bool spin_given, sleep_given;
};

struct parser {
    struct config *cfg;
    struct cfg_errors *errs;
    unsigned line;
    bool ok; /* no error on this line so far */
    unsigned console_line, boot_line, debug_line;
    struct stage st;
};

typedef bool (*key_fn)(struct parser *ps, const char *key, const char *val);

struct key_spec {
    const char *name;
    key_fn set;
    bool required;
};

struct directive {
    const char *name;
    const struct key_spec *keys;
    unsigned nkeys;
    void (*begin)(struct parser *ps);
    void (*finish)(struct parser *ps); /* checks, then stores the line if ps->ok */
};

static bool set_u32(struct parser *ps, const char *key, const char *val, uint64_t min, uint64_t max,
                    uint32_t *out)
{
    uint64_t v;
    if (!cfg_number(key, val, min, max, &v, ps->line, ps->errs))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool set_choice(struct parser *ps, const char *key, const char *val,
                       const char *const *words, unsigned n, int *out)
{
    int i = cfg_choice(key, val, words, n, ps->line, ps->errs);
    if (i >= 0)
        *out = i;
    return i >= 0;
}

/* Marks the line as the only one of its directive. */
static void only_once(struct parser *ps, unsigned *first, const char *directive)
{
    if (*first) {
        cfg_error(ps->errs, ps->line, "more than one '%s' line (first on line %u)", directive,
                  *first);
        ps->ok = false;
        return;
    }
    *first = ps->line;
}

/* console */

static bool key_port(struct parser *ps, const char *key, const char *val)
{
    uint32_t v;
    if (!set_u32(ps, key, val, 1, 0xffff, &v))
        return false;
    ps->st.top.console_port = (uint16_t)v;
    return true;
}

static bool key_log(struct parser *ps, const char *key, const char *val)
{
    int i;
    if (!set_choice(ps, key, val, log_names, ARRAY_SIZE(log_names), &i))
        return false;
    ps->st.top.log_level = (enum log_level)i;
    return true;
}

static void begin_console(struct parser *ps)
{
    only_once(ps, &ps->console_line, "console");
}

static void finish_console(struct parser *ps)
{
    if (!ps->ok)
        return;
    ps->cfg->console_port = ps->st.top.console_port;
    ps->cfg->log_level = ps->st.top.log_level;
}

/* boot */

static bool key_ap_timeout(struct parser *ps, const char *key, const char *val)
{
    return set_u32(ps, key, val, 1, 60000, &ps->st.top.ap_timeout_ms);
}

static bool key_run_timeout(struct parser *ps, const char *key, const char *val)
{
    return set_u32(ps, key, val, 1, 86400000, &ps->st.top.run_timeout_ms);
}

static bool key_shutdown(struct parser *ps, const char *key, const char *val)
{
    int i;
    if (!set_choice(ps, key, val, shutdown_names, ARRAY_SIZE(shutdown_names), &i))
        return false;
    ps->st.top.shutdown = (enum shutdown_method)i;
    return true;
}

static bool key_iommu(struct parser *ps, const char *key, const char *val)
{
    int i;
    if (!set_choice(ps, key, val, on_off, ARRAY_SIZE(on_off), &i))
        return false;
    ps->st.top.iommu_off = i == 1;
    return true;
}

static void begin_boot(struct parser *ps)
{
    only_once(ps, &ps->boot_line, "boot");
}

static void finish_boot(struct parser *ps)
{
    if (!ps->ok)
        return;
    ps->cfg->ap_timeout_ms = ps->st.top.ap_timeout_ms;
    ps->cfg->run_timeout_ms = ps->st.top.run_timeout_ms;
    ps->cfg->shutdown = ps->st.top.shutdown;
    ps->cfg->iommu_off = ps->st.top.iommu_off;
    ps->cfg->iommu_line = ps->line;
}

/* sidecore */

static bool key_sc_cpu(struct parser *ps, const char *key, const char *val)
{
    uint32_t v;
    if (!set_u32(ps, key, val, 0, CONFIG_MAX_CPUS - 1, &v))
        return false;
    ps->st.sc.cpu = v;
    return true;
}

/* Looks up one element s[0..n) of a services list; reports and returns -1 on error. */
static int service_element(struct parser *ps, const char *s, size_t n, unsigned have)
{
    char el[CFG_LINE_MAX + 1], clip[CFG_CLIP], list[40];
    memcpy(el, s, n);
    el[n] = '\0';
    for (unsigned i = 0; i < SERVICE_COUNT; i++) {
        if (strcmp(el, service_names[i]) != 0)
            continue;
        if (have & (1u << i)) {
            cfg_error(ps->errs, ps->line, "service '%s' is listed twice in 'services'", el);
            return -1;
        }
        return (int)i;
    }
    cfg_word_list(list, sizeof(list), service_names, SERVICE_COUNT);
    cfg_error(ps->errs, ps->line, "unknown service '%s' in 'services' (expected %s)",
              cfg_clip(clip, sizeof(clip), el), list);
    return -1;
}

static bool key_services(struct parser *ps, const char *key, const char *val)
{
    char clip[CFG_CLIP];
    unsigned mask = 0;
    for (const char *s = val;;) {
        size_t n = 0;
        while (s[n] && s[n] != ',')
            n++;
        if (n == 0) {
            cfg_error(ps->errs, ps->line, "'%s' has an empty element in '%s'", key,
                      cfg_clip(clip, sizeof(clip), val));
            return false;
        }
        int i = service_element(ps, s, n, mask);
        if (i < 0)
            return false;
        mask |= 1u << i;
        if (!s[n])
            break;
        s += n + 1;
    }
    ps->st.sc.services = mask;
    return true;
}

static bool key_poll(struct parser *ps, const char *key, const char *val)
{
    int i;
    if (!set_choice(ps, key, val, poll_names, ARRAY_SIZE(poll_names), &i))
        return false;
    ps->st.sc.poll = (enum poll_policy)i;
    return true;
}

static bool key_spin(struct parser *ps, const char *key, const char *val)
{
    ps->st.spin_given = true;
    return set_u32(ps, key, val, 1, 1000000000, &ps->st.sc.spin_iterations);
}

static bool key_sleep(struct parser *ps, const char *key, const char *val)
{
    ps->st.sleep_given = true;
    return set_u32(ps, key, val, 1, 1000000, &ps->st.sc.sleep_us);
}

static void begin_sidecore(struct parser *ps)
{
    if (ps->cfg->nsidecores >= CONFIG_MAX_CPUS) {
        cfg_error(ps->errs, ps->line, "too many side cores (at most %d)", CONFIG_MAX_CPUS);
        ps->ok = false;
    }
    ps->st.sc.poll = POLL_SPIN;
    ps->st.sc.spin_iterations = DEFAULT_SPIN;
    ps->st.sc.sleep_us = DEFAULT_SLEEP_US;
    ps->st.sc.line = ps->line;
}

static void adaptive_only(struct parser *ps, bool given, const char *key)
{
    if (given && ps->st.sc.poll != POLL_ADAPTIVE) {
        cfg_error(ps->errs, ps->line, "'%s' only applies with poll=adaptive", key);
        ps->ok = false;
    }
}

static void finish_sidecore(struct parser *ps)
{
    adaptive_only(ps, ps->st.spin_given, "spin");
    adaptive_only(ps, ps->st.sleep_given, "sleep_us");
    if (ps->ok)
        ps->cfg->sidecores[ps->cfg->nsidecores++] = ps->st.sc;
}

/* partition */

static bool chars_in(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        for (const char *e = extra; !ok && *e; e++)
            ok = c == *e;
        if (!ok)
            return false;
    }
    return true;
}

static bool key_name(struct parser *ps, const char *key, const char *val)
{
    char clip[CFG_CLIP];
    if (!chars_in(val, sizeof(ps->st.part.name) - 1, "_-")) {
        cfg_error(ps->errs, ps->line,
                  "'%s' must be 1 to 31 characters of A-Z a-z 0-9 _ -, not '%s'", key,
                  cfg_clip(clip, sizeof(clip), val));
        return false;
    }
    memcpy(ps->st.part.name, val, strlen(val) + 1);
    return true;
}

static bool key_cpus(struct parser *ps, const char *key, const char *val)
{
    return cfg_cpu_list(key, val, &ps->st.part.cpus, ps->line, ps->errs);
}

static bool key_memory(struct parser *ps, const char *key, const char *val)
{
    return cfg_size(key, val, &ps->st.part.memory, ps->line, ps->errs);
}

/* A file on the ESP: image=, disk= and initrd= follow the same rules. */
static bool set_file(struct parser *ps, const char *key, const char *val, char *dst, size_t cap)
{
    char clip[CFG_CLIP];
    if (!chars_in(val, cap - 1, "._/-")) {
        cfg_error(ps->errs, ps->line,
                  "'%s' must be 1 to 63 characters of A-Z a-z 0-9 . _ / -, not '%s'", key,
                  cfg_clip(clip, sizeof(clip), val));
        return false;
    }
    memcpy(dst, val, strlen(val) + 1);
    return true;
}

static bool key_image(struct parser *ps, const char *key, const char *val)
{
    return set_file(ps, key, val, ps->st.part.image, sizeof(ps->st.part.image));
}

static bool key_lapic(struct parser *ps, const char *key, const char *val)
{
    int i;
    if (!set_choice(ps, key, val, lapic_names, ARRAY_SIZE(lapic_names), &i))
        return false;
    ps->st.part.lapic_passthrough = true;
    return true;
}

static bool key_disk(struct parser *ps, const char *key, const char *val)
{
    return set_file(ps, key, val, ps->st.part.disk, sizeof(ps->st.part.disk));
}

static bool key_initrd(struct parser *ps, const char *key, const char *val)
{
    return set_file(ps, key, val, ps->st.part.initrd, sizeof(ps->st.part.initrd));
}

static bool key_args(struct parser *ps, const char *key, const char *val)
{
    (void)key;
    memcpy(ps->st.part.args, val, strlen(val) + 1); /* fits: see the _Static_assert */
    return true;
}

/* One hex number of at most max_digits digits ending at stop (a character or NUL). */
static const char *hex_field(const char *p, unsigned max_digits, char stop, uint32_t *out)
{
    uint32_t v = 0;
    unsigned n = 0;
    for (; n < max_digits; n++, p++) {
        char c = *p;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16;
        if (d == 16)
            break;
        v = v * 16 + d;
    }
    if (n == 0 || *p != stop)
        return NULL;
    *out = v;
    return stop ? p + 1 : p;
}

/* [segment:]bus:device.function in hex, as lspci -D prints it. */
static bool pci_function_parse(const char *t, struct cfg_pci_function *out)
{
    uint32_t seg = 0, bus, dev, fn;
    unsigned colons = 0;
    for (const char *c = t; *c; c++)
        colons += *c == ':';
    if (colons == 2 && !(t = hex_field(t, 4, ':', &seg)))
        return false;
    if (colons < 1 || colons > 2 || !(t = hex_field(t, 2, ':', &bus)) ||
        !(t = hex_field(t, 2, '.', &dev)) || !hex_field(t, 1, 0, &fn) || dev > 31 || fn > 7)
        return false;
    *out = (struct cfg_pci_function){(uint16_t)seg, (uint16_t)(bus << 8 | dev << 3 | fn)};
    return true;
}

static bool key_devices(struct parser *ps, const char *key, const char *val)
{
    char item[24], clip[40];
    struct cfg_partition *p = &ps->st.part;
    for (const char *c = val; *c;) {
        size_t n = 0;
        while (c[n] && c[n] != ',')
            n++;
        struct cfg_pci_function f;
        bool ok = n < sizeof(item);
        if (ok) {
            memcpy(item, c, n);
            item[n] = 0;
            ok = pci_function_parse(item, &f);
        }
        if (!ok) {
            cfg_error(ps->errs, ps->line,
                      "'%s': '%s' is not a PCI function ([segment:]bus:device.function in hex, "
                      "as lspci -D prints it, e.g. 0000:3b:00.0)",
                      key, cfg_clip(clip, sizeof(clip), n < sizeof(item) ? item : c));
            return false;
        }
        for (unsigned i = 0; i < p->ndevices; i++) {
            if (p->devices[i].segment == f.segment && p->devices[i].bdf == f.bdf) {
                cfg_error(ps->errs, ps->line, "'%s' names %s twice", key, item);
                return false;
            }
        }
        if (p->ndevices == CONFIG_MAX_DEVICES) {
            cfg_error(ps->errs, ps->line, "'%s': at most %d PCI functions per partition", key,
                      CONFIG_MAX_DEVICES);
            return false;
        }
        p->devices[p->ndevices++] = f;
        c += n + (c[n] == ',');
    }
    return true;
}

static void begin_partition(struct parser *ps)
{
    if (ps->cfg->npartitions >= CONFIG_MAX_PARTITIONS) {
        cfg_error(ps->errs, ps->line, "too many partitions (at most %d)", CONFIG_MAX_PARTITIONS);
        ps->ok = false;
    }
    ps->st.part.line = ps->line;
}

static void finish_partition(struct parser *ps)
{
    if (ps->ok)
        ps->cfg->partitions[ps->cfg->npartitions++] = ps->st.part;
}

/* debug */

static bool key_dump_acpi(struct parser *ps, const char *key, const char *val)
{
    int i;
    if (!set_choice(ps, key, val, yes_no, ARRAY_SIZE(yes_no), &i))
        return false;
    ps->st.top.dump_acpi = i == 0;
    return true;
}

/* An application processor's index (1..): what the boot CPU's own role cannot simulate. */
static bool set_ap(struct parser *ps, const char *key, const char *val, const char *why, int *out)
{
    uint32_t v;
    if (!set_u32(ps, key, val, 0, CONFIG_MAX_CPUS - 1, &v))
        return false;
    if (v == 0) {
        cfg_error(ps->errs, ps->line, "'%s' cannot be 0: %s", key, why);
        return false;
    }
    *out = (int)v;
    return true;
}

static bool key_offline_cpu(struct parser *ps, const char *key, const char *val)
{
    return set_ap(ps, key, val, "the boot CPU is always running", &ps->st.top.offline_cpu);
}

static bool key_dma_canaries(struct parser *ps, const char *key, const char *val)
{
    int i;
    if (!set_choice(ps, key, val, yes_no, ARRAY_SIZE(yes_no), &i))
        return false;
    ps->st.top.dma_canaries = i == 0;
    return true;
}

/* The deliberate faults are taken when an AP enters its role. */
static bool key_fault_cpu(struct parser *ps, const char *key, const char *val)
{
    return set_ap(ps, key, val, "the boot CPU takes no role fault", &ps->st.top.fault_cpu);
}

static bool key_overflow_cpu(struct parser *ps, const char *key, const char *val)
{
    return set_ap(ps, key, val, "the boot CPU takes no role fault", &ps->st.top.overflow_cpu);
}

static bool key_log_fault_cpu(struct parser *ps, const char *key, const char *val)
{
    return set_ap(ps, key, val, "the boot CPU takes no role fault", &ps->st.top.log_fault_cpu);
}

static bool key_silent_cpu(struct parser *ps, const char *key, const char *val)
{
    return set_ap(ps, key, val, "the boot CPU hands out the roles", &ps->st.top.silent_cpu);
}

static bool key_slow_trap(struct parser *ps, const char *key, const char *val)
{
    return set_u32(ps, key, val, 0, 60000, &ps->st.top.slow_trap_ms);
}

static void begin_debug(struct parser *ps)
{
    only_once(ps, &ps->debug_line, "debug");
}

static void finish_debug(struct parser *ps)
{
    if (!ps->ok)
        return;
    ps->cfg->dump_acpi = ps->st.top.dump_acpi;
    ps->cfg->dma_canaries = ps->st.top.dma_canaries;
    ps->cfg->offline_cpu = ps->st.top.offline_cpu;
    ps->cfg->fault_cpu = ps->st.top.fault_cpu;
    ps->cfg->silent_cpu = ps->st.top.silent_cpu;
    ps->cfg->overflow_cpu = ps->st.top.overflow_cpu;
    ps->cfg->log_fault_cpu = ps->st.top.log_fault_cpu;
    ps->cfg->slow_trap_ms = ps->st.top.slow_trap_ms;
}

/* the table */

static const struct key_spec console_keys[] = {
    {"port", key_port, false},
    {"log", key_log, false},
};
static const struct key_spec boot_keys[] = {
    {"ap_timeout_ms", key_ap_timeout, false},
    {"run_timeout_ms", key_run_timeout, false},
    {"shutdown", key_shutdown, false},
    {"iommu", key_iommu, false},
};
static const struct key_spec sidecore_keys[] = {
    {"cpu", key_sc_cpu, true}, {"services", key_services, true}, {"poll", key_poll, false},
    {"spin", key_spin, false}, {"sleep_us", key_sleep, false},
};
static const struct key_spec partition_keys[] = {
    {"name", key_name, true},    {"cpus", key_cpus, true},  {"memory", key_memory, true},
    {"image", key_image, false}, {"disk", key_disk, false}, {"initrd", key_initrd, false},
    {"lapic", key_lapic, false}, {"args", key_args, false}, {"devices", key_devices, false},
};
static const struct key_spec debug_keys[] = {
    {"dump_acpi", key_dump_acpi, false},       {"offline_cpu", key_offline_cpu, false},
    {"fault_cpu", key_fault_cpu, false},       {"silent_cpu", key_silent_cpu, false},
    {"overflow_cpu", key_overflow_cpu, false}, {"log_fault_cpu", key_log_fault_cpu, false},
    {"slow_trap_ms", key_slow_trap, false},    {"dma_canaries", key_dma_canaries, false},
};

static const struct directive directives[] = {
    {"console", console_keys, ARRAY_SIZE(console_keys), begin_console, finish_console},
    {"boot", boot_keys, ARRAY_SIZE(boot_keys), begin_boot, finish_boot},
    {"sidecore", sidecore_keys, ARRAY_SIZE(sidecore_keys), begin_sidecore, finish_sidecore},
    {"partition", partition_keys, ARRAY_SIZE(partition_keys), begin_partition, finish_partition},
    {"debug", debug_keys, ARRAY_SIZE(debug_keys), begin_debug, finish_debug},
};
#define MAX_KEYS 12 /* per directive: bits of the seen mask, names in a message */
_Static_assert(ARRAY_SIZE(sidecore_keys) <= MAX_KEYS && ARRAY_SIZE(partition_keys) <= MAX_KEYS &&
                   ARRAY_SIZE(debug_keys) <= MAX_KEYS,
               "MAX_KEYS");

static const struct directive *find_directive(struct parser *ps, const char *word)
{
    const char *names[ARRAY_SIZE(directives)];
    char list[80], clip[CFG_CLIP];
    for (size_t i = 0; i < ARRAY_SIZE(directives); i++) {
        if (strcmp(word, directives[i].name) == 0)
            return &directives[i];
        names[i] = directives[i].name;
    }
    cfg_word_list(list, sizeof(list), names, ARRAY_SIZE(names));
    cfg_error(ps->errs, ps->line, "unknown directive '%s' (expected %s)",
              cfg_clip(clip, sizeof(clip), word), list);
    return NULL;
}

static int find_key(struct parser *ps, const struct directive *d, const char *key)
{
    const char *names[MAX_KEYS];
    char list[112], clip[CFG_CLIP];
    for (unsigned i = 0; i < d->nkeys; i++) {
        if (strcmp(key, d->keys[i].name) == 0)
            return (int)i;
        names[i] = d->keys[i].name;
    }
    cfg_word_list(list, sizeof(list), names, d->nkeys);
    cfg_error(ps->errs, ps->line, "unknown key '%s' for '%s' (expected %s)",
              cfg_clip(clip, sizeof(clip), key), d->name, list);
    return -1;
}

static void apply_pair(struct parser *ps, const struct directive *d, const struct cfg_lexer *lx,
                       unsigned *seen)
{
    int k = find_key(ps, d, lx->key);
    if (k < 0) {
        ps->ok = false;
        return;
    }
    if (*seen & (1u << k)) {
        cfg_error(ps->errs, ps->line, "key '%s' is given twice", lx->key);
        ps->ok = false;
        return;
    }
    *seen |= 1u << k;
    if (!d->keys[k].set(ps, lx->key, lx->val))
        ps->ok = false;
}

static void check_required(struct parser *ps, const struct directive *d, unsigned seen)
{
    for (unsigned i = 0; i < d->nkeys; i++) {
        if (d->keys[i].required && !(seen & (1u << i))) {
            cfg_error(ps->errs, ps->line, "missing required key '%s' for '%s'", d->keys[i].name,
                      d->name);
            ps->ok = false;
        }
    }
}

/* Not inlined: its lexer (two line buffers) lives only while one line is parsed, apart from
 * the parser state that config_parse keeps for the whole file (together over 1 KiB). */
__attribute__((noinline)) static void parse_line(struct parser *ps, const struct cfg_line *ln)
{
    struct cfg_lexer lx;
    cfg_lexer_init(&lx, ln);
    if (!cfg_next_word(&lx))
        return;
    ps->line = ln->no;
    const struct directive *d = find_directive(ps, lx.word);
    if (!d)
        return;
    ps->ok = true;
    memset(&ps->st, 0, sizeof(ps->st));
    const struct config *c = ps->cfg;
    ps->st.top = (struct top_settings){
        .console_port = c->console_port,
        .log_level = c->log_level,
        .ap_timeout_ms = c->ap_timeout_ms,
        .shutdown = c->shutdown,
        .iommu_off = c->iommu_off,
        .dump_acpi = c->dump_acpi,
        .dma_canaries = c->dma_canaries,
        .offline_cpu = c->offline_cpu,
        .fault_cpu = c->fault_cpu,
        .silent_cpu = c->silent_cpu,
        .run_timeout_ms = c->run_timeout_ms,
        .overflow_cpu = c->overflow_cpu,
        .log_fault_cpu = c->log_fault_cpu,
        .slow_trap_ms = c->slow_trap_ms,
    };
    d->begin(ps);
    unsigned seen = 0;
    int r;
    while ((r = cfg_next_pair(&lx, ps->errs)) > 0)
        apply_pair(ps, d, &lx, &seen);
    if (r < 0)
        return; /* after a syntax error the rest of the line means nothing */
    check_required(ps, d, seen);
    d->finish(ps);
}

int config_parse(const char *text, size_t len, struct config *cfg, struct cfg_errors *errs)
{
    struct parser ps = {.cfg = cfg, .errs = errs};
    struct cfg_line ln;
    unsigned lineno = 0;
    const char *cur = text ? text : "";
    const char *end = text ? text + len : cur;

    config_defaults(cfg);
    errs->count = errs->dropped = 0;
    while (cfg_next_line(&cur, end, &lineno, &ln))
        if (cfg_line_chars_ok(&ln, errs))
            parse_line(&ps, &ln);
    cfg->last_line = lineno;
    return errs->count || errs->dropped ? -E_INVAL : 0;
}

/* ---- validation: across lines and against the machine ---- */

static void core_missing(const struct machine_facts *m, struct cfg_errors *errs, unsigned cpu,
                         unsigned line)
{
    cfg_error(errs, line, "core %u does not exist (this machine has %u core%s)", cpu, m->ncpus,
              m->ncpus == 1 ? "" : "s");
}

static void check_sidecores(const struct config *cfg, const struct machine_facts *m,
                            struct cfg_errors *errs)
{
    for (unsigned i = 0; i < cfg->nsidecores; i++) {
        const struct cfg_sidecore *sc = &cfg->sidecores[i];
        if (sc->cpu >= m->ncpus) {
            core_missing(m, errs, sc->cpu, sc->line);
            continue;
        }
        for (unsigned j = 0; j < i; j++) {
            if (cfg->sidecores[j].cpu == sc->cpu) {
                cfg_error(errs, sc->line,
                          "core %u is listed as a side core twice (first on line %u)", sc->cpu,
                          cfg->sidecores[j].line);
                break;
            }
        }
    }
}

static const struct cfg_sidecore *sidecore_on(const struct config *cfg, unsigned cpu)
{
    for (unsigned i = 0; i < cfg->nsidecores; i++)
        if (cfg->sidecores[i].cpu == cpu)
            return &cfg->sidecores[i];
    return NULL;
}

/* The first of partitions[0..before) that holds cpu. */
static const struct cfg_partition *partition_on(const struct config *cfg, unsigned cpu,
                                                unsigned before)
{
    for (unsigned i = 0; i < before; i++)
        if (cpu_set_has(&cfg->partitions[i].cpus, cpu))
            return &cfg->partitions[i];
    return NULL;
}

/* Returns false once cpu and every higher core are known not to exist. */
static bool check_guest_core(const struct config *cfg, const struct machine_facts *m,
                             struct cfg_errors *errs, unsigned pi, unsigned cpu)
{
    const struct cfg_partition *p = &cfg->partitions[pi], *other;
    if (cpu >= m->ncpus) {
        core_missing(m, errs, cpu, p->line);
        return false;
    }
    if (cpu == 0)
        cfg_error(errs, p->line, "core 0 is the boot CPU and cannot be a guest core");
    else if (sidecore_on(cfg, cpu))
        cfg_error(errs, p->line, "core %u is both a side core and in partition '%s'", cpu, p->name);
    else if ((other = partition_on(cfg, cpu, pi)) != NULL)
        cfg_error(errs, p->line, "core %u is in partitions '%s' and '%s'", cpu, other->name,
                  p->name);
    return true;
}

static void check_partition(const struct config *cfg, const struct machine_facts *m,
                            struct cfg_errors *errs, unsigned pi)
{
    const struct cfg_partition *p = &cfg->partitions[pi];
    char need[16], have[16];
    for (unsigned j = 0; j < pi; j++) {
        if (strcmp(cfg->partitions[j].name, p->name) == 0) {
            cfg_error(errs, p->line, "partition '%s' is defined twice (first on line %u)", p->name,
                      cfg->partitions[j].line);
            break;
        }
    }
    if (p->initrd[0] && !p->image[0])
        cfg_error(errs, p->line, "partition '%s': initrd '%s' without an image to hand it to",
                  p->name, p->initrd);
    /* a block device is writable: two partitions on one file could read each other's data,
     * and a disk that is another partition's image or initrd would expose it */
    for (unsigned j = 0; j < cfg->npartitions && p->disk[0]; j++) {
        const struct cfg_partition *o = &cfg->partitions[j];
        if (j < pi && strcmp(o->disk, p->disk) == 0) {
            cfg_error(errs, p->line,
                      "partition '%s': disk '%s' is already the disk of partition "
                      "'%s' (line %u); each partition needs its own disk file",
                      p->name, p->disk, o->name, o->line);
            break;
        }
        const char *what = j == pi                           ? NULL
                           : strcmp(o->image, p->disk) == 0  ? "image"
                           : strcmp(o->initrd, p->disk) == 0 ? "initrd"
                                                             : NULL;
        if (what) {
            cfg_error(errs, p->line,
                      "partition '%s': disk '%s' is the %s of partition '%s' "
                      "(line %u)",
                      p->name, p->disk, what, o->name, o->line);
            break;
        }
    }
    for (unsigned cpu = 0; cpu < CONFIG_MAX_CPUS; cpu++)
        if (cpu_set_has(&p->cpus, cpu) && !check_guest_core(cfg, m, errs, pi, cpu))
            break;
    if (cpu_set_count(&p->cpus) > CONFIG_MAX_PARTITION_CPUS)
        cfg_error(errs, p->line,
                  "partition '%s' has %u cores; a partition may have at most %d "
                  "vCPUs",
                  p->name, cpu_set_count(&p->cpus), CONFIG_MAX_PARTITION_CPUS);
    if (p->memory > m->free_bytes) {
        fmt_size(need, sizeof(need), p->memory);
        fmt_size(have, sizeof(have), m->free_bytes);
        cfg_error(errs, p->line, "partition '%s': %s of memory requested, %s free", p->name, need,
                  have);
    }
}

static void check_total_memory(const struct config *cfg, const struct machine_facts *m,
                               struct cfg_errors *errs)
{
    char need[16], have[16];
    uint64_t sum = 0;
    if (cfg->npartitions < 2)
        return; /* one partition: already checked on its own */
    for (unsigned i = 0; i < cfg->npartitions; i++) {
        uint64_t mem = cfg->partitions[i].memory;
        sum = sum > UINT64_MAX - mem ? UINT64_MAX : sum + mem;
    }
    if (sum <= m->free_bytes)
        return;
    fmt_size(need, sizeof(need), sum);
    fmt_size(have, sizeof(have), m->free_bytes);
    cfg_error(errs, cfg->partitions[cfg->npartitions - 1].line,
              "partitions need %s in total, %s free", need, have);
}

static void check_services(const struct config *cfg, struct cfg_errors *errs)
{
    unsigned placed = 0;
    for (unsigned i = 0; i < cfg->nsidecores; i++)
        placed |= cfg->sidecores[i].services;
    for (unsigned s = 0; s < SERVICE_COUNT; s++)
        if (!(placed & (1u << s)))
            cfg_error(errs, cfg->last_line, "service '%s' is not placed on any side core",
                      service_names[s]);
}

/* A PCI function has one owner. */
static void check_devices(const struct config *cfg, struct cfg_errors *errs)
{
    for (unsigned i = 0; i < cfg->npartitions; i++) {
        const struct cfg_partition *p = &cfg->partitions[i];
        for (unsigned d = 0; d < p->ndevices; d++) {
            for (unsigned j = 0; j < i; j++) {
                const struct cfg_partition *o = &cfg->partitions[j];
                for (unsigned e = 0; e < o->ndevices; e++) {
                    if (o->devices[e].segment != p->devices[d].segment ||
                        o->devices[e].bdf != p->devices[d].bdf)
                        continue;
                    uint16_t bdf = p->devices[d].bdf;
                    cfg_error(errs, p->line,
                              "partition '%s': PCI function %04x:%02x:%02x.%u is already owned "
                              "by partition '%s' (line %u)",
                              p->name, p->devices[d].segment, bdf >> 8, (bdf >> 3) & 31, bdf & 7,
                              o->name, o->line);
                }
            }
        }
    }
}

int config_validate(const struct config *cfg, const struct machine_facts *m,
                    struct cfg_errors *errs)
{
    unsigned before = errs->count + errs->dropped;
    check_sidecores(cfg, m, errs);
    for (unsigned i = 0; i < cfg->npartitions; i++)
        check_partition(cfg, m, errs, i);
    check_total_memory(cfg, m, errs);
    check_services(cfg, errs);
    check_devices(cfg, errs);
    return errs->count + errs->dropped > before ? -E_INVAL : 0;
}

struct cpu_role config_cpu_role(const struct config *cfg, unsigned cpu)
{
    for (unsigned i = 0; i < cfg->nsidecores; i++)
        if (cfg->sidecores[i].cpu == cpu)
            return (struct cpu_role){ROLE_SIDECORE, i, cfg->sidecores[i].line};
    for (unsigned i = 0; i < cfg->npartitions; i++)
        if (cpu_set_has(&cfg->partitions[i].cpus, cpu))
            return (struct cpu_role){ROLE_GUEST, i, cfg->partitions[i].line};
    return (struct cpu_role){ROLE_UNUSED, 0, 0};
}
