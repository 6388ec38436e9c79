//! The `minhbach` binary: everything lives in the library; this only maps
//! the outcome to an exit status (0 ok, 1 verification or validation
//! failure, 2 usage error).

/// mimalloc instead of glibc's malloc: `verify` and `build` allocate millions
/// of small strings, and glibc's allocator took about half of `verify`'s time
/// (BENCHMARKS.md has the profile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    disable_transparent_huge_pages();
    // Before any hash map exists: ahash refuses a source after its first.
    let _ = ahash::random_state::set_random_source(ThreadSeeds);
    minhbach::cli::main()
}

/// Where ahash takes each new map's seed: a count per thread. Its default is
/// one counter shared by every thread, and Tera makes a map for every
/// function call in a template (`t(key=…)`), so the rendering threads took
/// turns at that counter's cache line (BENCHMARKS.md has the profile). The
/// keys stay random per process: ahash mixes the seed with keys it draws
/// from the OS once.
struct ThreadSeeds;

impl ahash::random_state::RandomSource for ThreadSeeds {
    fn gen_hasher_seed(&self) -> usize {
        thread_local!(static LAST: std::cell::Cell<usize> = const { std::cell::Cell::new(0) });
        LAST.with(|last| {
            // Each thread's own address: the threads' sequences differ.
            let step = std::ptr::from_ref(last) as usize;
            let seed = last.get().wrapping_add(step);
            last.set(seed);
            seed
        })
    }
}

/// Transparent huge pages off for this process. With them (Debian's default
/// is `always`), every first touch of a 2 MiB region makes the kernel zero
/// the whole huge page, and mimalloc returns and re-takes memory often, so a
/// rebuild spent most of its kernel time zeroing pages (BENCHMARKS.md has the
/// profile and the figures). Faults after this call obey it.
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag on
    // this process; a kernel without it returns an error, which changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
