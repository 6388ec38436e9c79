//! The `minhbach` binary: everything lives in the library; this only maps
//! the outcome to an exit status (0 ok, 1 verification or validation
//! failure, 2 usage error).

fn main() -> std::process::ExitCode {
    minhbach::cli::main()
}
