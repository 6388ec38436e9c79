//! `minhbach key new|add|revoke|list`.

use super::signing::{append_inputs, load_signing_key, write_private_file};
use super::{ledger_of, open_portal, usage};
use crate::ledger::entry::{Body, KeyEntry, Role};
use crate::ledger::note::{SigningKey, VerifierKey, is_valid_key_name};
use crate::ledger::{Pending, VerifyOptions};
use crate::portal::refuse_published_location;
use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Make a key pair: the private key in FILE (mode 0600), the verifier key in FILE.pub.
    New(NewArgs),
    /// Admit a key (an administrator signs).
    Add(AddArgs),
    /// Revoke a key (an administrator signs).
    Revoke(RevokeArgs),
    /// List admitted and revoked keys.
    List,
}

#[derive(Args, Debug)]
pub struct NewArgs {
    /// Where to write the private key; never inside a portal's ledger/, content/, public/ or static/.
    #[arg(long)]
    out: PathBuf,
    /// The key's name, as it appears in signatures (default: FILE's name without extension).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The administrator's private key file.
    #[arg(long)]
    key: PathBuf,
    /// The new key's name; must match the name inside VERIFIER_KEY.
    #[arg(long)]
    name: String,
    /// The unit the key holder works for, e.g. "Ủy ban MTTQ xã Vĩnh Linh".
    #[arg(long)]
    unit: String,
    #[arg(long, value_enum, default_value = "officer")]
    role: RoleArg,
    /// The verifier key, `<name>+<key id>+<base64>`, as printed by `key new`.
    verifier_key: String,
}

#[derive(Args, Debug)]
pub struct RevokeArgs {
    /// The administrator's private key file.
    #[arg(long)]
    key: PathBuf,
    /// Why the key is revoked (lost laptop, officer left the post...).
    #[arg(long)]
    reason: Option<String>,
    /// The name of the key to revoke.
    name: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RoleArg {
    Officer,
    Admin,
}

pub fn run(root: &Path, command: KeyCommand) -> Result<()> {
    match command {
        KeyCommand::New(args) => new(args),
        KeyCommand::Add(args) => add(root, args),
        KeyCommand::Revoke(args) => revoke(root, args),
        KeyCommand::List => list(root),
    }
}

fn new(args: NewArgs) -> Result<()> {
    let name = match args.name {
        Some(name) => name,
        None => args
            .out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let key = generate_key_file(&args.out, &name)?;
    println!("{}", key.verifier_key());
    eprintln!(
        "wrote the private key to `{}` (keep it secret) and the verifier key to `{}`",
        args.out.display(),
        pub_path(&args.out).display()
    );
    Ok(())
}

/// Makes a key named `name`, writes FILE (0600) and FILE.pub.
pub(crate) fn generate_key_file(path: &Path, name: &str) -> Result<SigningKey> {
    if !is_valid_key_name(name) || name.len() > 64 {
        return Err(usage(format!(
            "`{name}` is not a key name: use no spaces and no `+`, at most 64 bytes (pass --name)"
        )));
    }
    refuse_published_location(path, "the private key").map_err(|e| usage(e.to_string()))?;
    let key = SigningKey::generate(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    write_private_file(path, &key.to_file_text())?;
    let pub_path = pub_path(path);
    std::fs::write(&pub_path, format!("{}\n", key.verifier_key()))
        .map_err(|e| anyhow::anyhow!("failed to write `{}`: {e}", pub_path.display()))?;
    Ok(key)
}

fn pub_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".pub");
    PathBuf::from(name)
}

fn add(root: &Path, args: AddArgs) -> Result<()> {
    let vkey = VerifierKey::parse(args.verifier_key.trim())
        .map_err(|e| usage(format!("invalid verifier key: {e}")))?;
    if vkey.name() != args.name {
        return Err(usage(format!(
            "the verifier key is named `{}` but --name is `{}`; they must be the same",
            vkey.name(),
            args.name
        )));
    }
    let role = match args.role {
        RoleArg::Officer => Role::Officer,
        RoleArg::Admin => Role::Admin,
    };
    let body = Body::Key(KeyEntry::Admit {
        name: args.name.clone(),
        unit: args.unit,
        role,
        vkey: vkey.to_string(),
    });
    append_key_entry(root, &args.key, body)?;
    println!(
        "admitted `{}` as {}",
        args.name,
        if role == Role::Admin {
            "administrator"
        } else {
            "officer"
        }
    );
    Ok(())
}

fn revoke(root: &Path, args: RevokeArgs) -> Result<()> {
    let body = Body::Key(KeyEntry::Revoke {
        name: args.name.clone(),
        reason: args.reason,
    });
    append_key_entry(root, &args.key, body)?;
    println!("revoked `{}`", args.name);
    Ok(())
}

fn append_key_entry(root: &Path, key_file: &Path, body: Body) -> Result<()> {
    let portal = open_portal(root)?;
    let key = load_signing_key(key_file)?;
    let ledger = ledger_of(&portal);
    append_inputs(
        &ledger,
        vec![Pending {
            body,
            media: Vec::new(),
            citizen_id_last4: None,
        }],
        &key,
        &|_| "the key entry".to_string(),
    )
    .map(drop)
}

fn list(root: &Path) -> Result<()> {
    let portal = open_portal(root)?;
    let verified = ledger_of(&portal)
        .verify(VerifyOptions::default())
        .map_err(anyhow::Error::new)?;
    for key in verified.state.keys() {
        let role = key.role.as_str();
        let status = match key.revoked_seq {
            Some(seq) => format!("revoked at entry {seq}"),
            None => "active".to_string(),
        };
        println!(
            "{}\t{role}\t{}\tadmitted at entry {}\t{status}\t{}",
            key.name, key.unit, key.admitted_seq, key.vkey
        );
    }
    Ok(())
}
