/*
 * dispatch.c — which kernel table the running CPU can use (see dispatch.h).
 *
 * x86: CPUID feature bits AND the OS's XCR0 state bits (a CPU may have
 * AVX-512 while the kernel, or a hypervisor, leaves the ZMM/opmask state
 * disabled; executing it then faults). aarch64: HWCAP from the auxiliary
 * vector. The x86 answer (CPUID, XCR0, the AMX permission) is computed once
 * per process: it cannot change while the process runs, and in a virtual
 * machine every CPUID traps to the hypervisor, which showed up at ~2% of an
 * encoder forward pass that selects its table per product. SLM_ISA is read
 * on every call (tests change it).
 */
#define _GNU_SOURCE /* syscall(2), for arch_prctl */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

#if defined(__x86_64__) || defined(__i386__)
#define SLM_X86 1
#include <cpuid.h>
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif
#elif defined(__aarch64__)
#define SLM_ARM64 1
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

static const char *const isa_names[SLM_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon", "amx"};

#ifdef SLM_X86
/* XCR0: which register states the OS saves on context switch. */
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

typedef struct {
    int avx2, avx512, amx;
} x86_caps;

/* Linux hands out AMX tile state per process, on request (arch_prctl
   ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); asking again once granted
   is a no-op that succeeds; asked once, when the amx table is first probed
   (the other tables' probes make no system call). */
static int amx_permitted(void)
{
#if defined(__linux__) && defined(__x86_64__)
    enum { arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18 };
    return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
#else
    return 0;
#endif
}

static x86_caps x86_probe(void)
{
    x86_caps c = {0, 0, 0};
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d))
        return c;
    int osxsave = (cx >> 27) & 1, avx = (cx >> 28) & 1;
    int fma = (cx >> 12) & 1, f16c = (cx >> 29) & 1;
    if (!osxsave || !avx)
        return c;
    uint64_t xcr0 = xgetbv0();
    int ymm_os = (xcr0 & 0x6) == 0x6;   /* SSE + AVX state */
    int zmm_os = (xcr0 & 0xe6) == 0xe6; /* + opmask, ZMM_Hi256, Hi16_ZMM */
    int tile_os = (xcr0 & 0x60000) == 0x60000; /* XTILECFG + XTILEDATA */
    if (__get_cpuid_max(0, NULL) < 7)
        return c;
    __cpuid_count(7, 0, a, b, cx, d);
    int avx2 = (b >> 5) & 1;
    int f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    int vnni = (cx >> 11) & 1;
    c.avx2 = ymm_os && avx2 && fma && f16c;
    c.avx512 = c.avx2 && zmm_os && f && bw && vl && vnni;
    int amx_tile = (d >> 24) & 1, amx_int8 = (d >> 25) & 1;
    c.amx = c.avx512 && tile_os && amx_tile && amx_int8; /* + amx_permitted(), when asked */
    return c;
}
#endif

#ifdef SLM_X86
/* x86_probe() and the AMX permission, each once (see the file comment); the
   permission is asked for only when the amx table is probed. */
static x86_caps caps_value;
static int amx_ok_value;
static pthread_once_t caps_once = PTHREAD_ONCE_INIT, amx_once = PTHREAD_ONCE_INIT;

static void caps_init(void) { caps_value = x86_probe(); }

static const x86_caps *x86_caps_get(void)
{
    pthread_once(&caps_once, caps_init);
    return &caps_value;
}

static void amx_init(void)
{
    amx_ok_value = x86_caps_get()->amx && slm_kernels_amx() != NULL && amx_permitted();
}

static int amx_usable(void)
{
    pthread_once(&amx_once, amx_init);
    return amx_ok_value;
}
#endif

int slm_isa_supported(slm_isa isa)
{
    switch (isa) {
    case SLM_ISA_SCALAR:
        return 1;
#ifdef SLM_X86
    case SLM_ISA_AVX2:
        return x86_caps_get()->avx2 && slm_kernels_avx2() != NULL;
    case SLM_ISA_AVX512:
        return x86_caps_get()->avx512 && slm_kernels_avx512() != NULL;
    case SLM_ISA_AMX:
        return amx_usable();
#endif
#ifdef SLM_ARM64
    case SLM_ISA_NEON: {
        unsigned long hw = getauxval(AT_HWCAP);
        int ok = (hw & HWCAP_ASIMD) != 0;
#ifdef __ARM_FEATURE_DOTPROD
        ok = ok && (hw & HWCAP_ASIMDDP) != 0; /* the NEON file then uses vdotq */
#endif
        return ok && slm_kernels_neon() != NULL;
    }
#endif
    default:
        return 0;
    }
}

/* Preference by measurement (slm bench, TinyLlama shape, 2 threads): avx512
   before avx2 on a Zen 4 and on an Intel Xeon with AMX (decode and prefill,
   every quantized format); amx before avx512 where the CPU has it: the same
   table but quantized prompt products on tiles, on that Xeon pp128 q8_0
   302-308 -> 337-348 tok/s (pp512 286-289 -> 298-317), q4_0 314-337 ->
   363-382 (pp512 the same within noise); every other path unchanged. */
slm_isa slm_isa_best(void)
{
    static const slm_isa order[] = {SLM_ISA_AMX, SLM_ISA_AVX512, SLM_ISA_AVX2, SLM_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (slm_isa_supported(order[i]))
            return order[i];
    return SLM_ISA_SCALAR;
}

const char *slm_isa_name(slm_isa isa)
{
    return (unsigned)isa < SLM_ISA_COUNT ? isa_names[isa] : "?";
}

int slm_isa_parse(const char *name, slm_isa *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < SLM_ISA_COUNT; i++) {
        if (strcmp(name, isa_names[i]) == 0) {
            *out = (slm_isa)i;
            return 0;
        }
    }
    return -1;
}

int slm_isa_from_env(slm_isa *out)
{
    const char *v = getenv("SLM_ISA");
    if (!v || !*v)
        return 0;
    return slm_isa_parse(v, out) == 0 ? 1 : -1;
}

static const slm_kernel_table *table_of(slm_isa isa)
{
    switch (isa) {
    case SLM_ISA_AVX2:
        return slm_kernels_avx2();
    case SLM_ISA_AVX512:
        return slm_kernels_avx512();
    case SLM_ISA_NEON:
        return slm_kernels_neon();
    case SLM_ISA_AMX:
        return slm_kernels_amx();
    default:
        return &slm_kernels_scalar;
    }
}

int slm_isa_compiled(slm_isa isa)
{
    return (unsigned)isa < SLM_ISA_COUNT && table_of(isa) != NULL;
}

const slm_kernel_table *slm_kernels_for(slm_isa isa)
{
    if ((unsigned)isa >= SLM_ISA_COUNT || !slm_isa_supported(isa))
        isa = slm_isa_best();
    const slm_kernel_table *t = table_of(isa);
    return t ? t : &slm_kernels_scalar;
}

const slm_kernel_table *slm_kernels_select(void)
{
    slm_isa isa;
    if (slm_isa_from_env(&isa) == 1)
        return slm_kernels_for(isa);
    return slm_kernels_for(slm_isa_best());
}

/* Tables of ISAs this architecture does not compile (their files are left
   out of the build): NULL, as dispatch.h promises. */
#ifndef SLM_X86
const slm_kernel_table *slm_kernels_avx2(void) { return NULL; }
const slm_kernel_table *slm_kernels_avx512(void) { return NULL; }
const slm_kernel_table *slm_kernels_amx(void) { return NULL; }
#endif
#ifndef SLM_ARM64
const slm_kernel_table *slm_kernels_neon(void) { return NULL; }
#endif
