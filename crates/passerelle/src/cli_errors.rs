//! Command-line mistakes explained in French (clap's own messages are in English).

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};

fn context(e: &clap::Error, kind: ContextKind) -> String {
    match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(", "),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

pub fn report(e: clap::Error) -> ExitCode {
    let message = match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
        ErrorKind::InvalidSubcommand => format!(
            "commande inconnue « {} ». Commandes : serve, demo, migrate, admin create.",
            context(&e, ContextKind::InvalidSubcommand)
        ),
        ErrorKind::UnknownArgument => format!(
            "option inconnue « {} ».",
            context(&e, ContextKind::InvalidArg)
        ),
        ErrorKind::MissingRequiredArgument => format!(
            "option obligatoire manquante : {}.",
            context(&e, ContextKind::InvalidArg)
        ),
        ErrorKind::MissingSubcommand => {
            "précisez une commande : serve, demo, migrate ou admin create.".into()
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => format!(
            "valeur « {} » invalide pour {}.",
            context(&e, ContextKind::InvalidValue),
            context(&e, ContextKind::InvalidArg)
        ),
        ErrorKind::TooManyValues
        | ErrorKind::ArgumentConflict
        | ErrorKind::NoEquals
        | ErrorKind::WrongNumberOfValues => {
            format!(
                "option mal formée : {}.",
                context(&e, ContextKind::InvalidArg)
            )
        }
        _ => "arguments incorrects.".into(),
    };
    eprintln!("passerelle : {message}\nAide : passerelle --help");
    ExitCode::from(2)
}
