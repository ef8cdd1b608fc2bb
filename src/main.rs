fn main() -> std::process::ExitCode {
    notebox::cli::main()
}
