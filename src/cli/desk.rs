//! `minhbach desk --key FILE [--port N] [--listen ADDR]`: the officers' local
//! web desk (see `desk`).

use super::open_portal;
use super::signing::{load_secret, load_signing_key};
use crate::desk::{DeskOptions, Started, start};
use anyhow::Result;
use clap::Args;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct DeskArgs {
    /// The officer's private key file; it never leaves this machine.
    #[arg(long)]
    key: PathBuf,
    /// The port (0 picks a free one).
    #[arg(long, default_value_t = 1112)]
    port: u16,
    /// Listen on this address instead of 127.0.0.1, e.g. the machine's
    /// address on the office network so a phone can reach the desk.
    #[arg(long)]
    listen: Option<IpAddr>,
}

pub fn run(root: &Path, args: DeskArgs) -> Result<()> {
    if args.listen.is_some_and(|ip| ip.is_unspecified()) {
        return Err(super::usage(
            "--listen needs this machine's address on the office network (e.g. 192.168.1.20), not 0.0.0.0 or ::: the desk answers only to the address it was given",
        ));
    }
    let portal = open_portal(root)?;
    let key = load_signing_key(&args.key)?;
    let secret = load_secret(&portal)?;
    let options = DeskOptions {
        portal,
        key,
        secret,
        port: args.port,
        listen: args.listen,
    };
    start(options, &|started: &Started| {
        println!("Bàn làm việc / The desk: {}", started.url);
        if started.on_network {
            println!(
                "Cảnh báo: bàn làm việc nghe trên mạng; chỉ dùng trong mạng văn phòng tin cậy.\nWarning: the desk listens on the network; use it on a trusted office network only."
            );
            if let Ok(code) = qrcode::QrCode::new(started.url.as_bytes()) {
                let text = code
                    .render::<qrcode::render::unicode::Dense1x2>()
                    .quiet_zone(true)
                    .build();
                println!("{text}");
            }
        }
        println!("Đường dẫn chỉ dùng được một lần. / The link works once. Ctrl+C to stop.");
        use std::io::Write;
        let _ = std::io::stdout().flush();
    })
}
