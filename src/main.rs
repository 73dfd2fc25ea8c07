use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = uchbot::cli::Cli::parse();
    match uchbot::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One clear line for the operator (config errors name the key).
            eprintln!("uchbot: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
