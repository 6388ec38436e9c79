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
    minhbach::cli::main()
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
