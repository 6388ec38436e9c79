//! The `minhbach` binary: everything lives in the library; this only maps
//! the outcome to an exit status (0 ok, 1 verification or validation
//! failure, 2 usage error).

/// mimalloc instead of glibc's malloc: `verify` and `build` allocate millions
/// of small strings, and glibc's allocator took about half of `verify`'s time
/// at W2 (`_int_malloc`, `malloc_consolidate`; see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    minhbach::cli::main()
}
