//! `targets add`, `targets list` and `targets remove`.
//!
//! They call the workspace directly and start no watch (see the module above): the next `watch`
//! picks the change up. `targets add` checks the drive against Graph first, so bad input changes
//! nothing.

use clap::ArgGroup;
use drivewatch_core::model::TargetSpec;
use drivewatch_core::workspace::TargetInput;

use super::workspace;
use crate::Context;
use crate::error::CliError;
use crate::output;

/// What `targets add` watches: exactly one of the forms.
#[derive(Debug, Clone, clap::Args)]
#[command(group(ArgGroup::new("what").required(true).args(["me", "drive", "drive_list", "group", "site", "url"])))]
pub struct AddTarget {
    /// The signed-in user's own OneDrive.
    #[arg(long)]
    me: bool,
    /// A drive by id (`/drives/{id}/root`).
    #[arg(long, value_name = "DRIVE_ID")]
    drive: Option<String>,
    /// A document library's list by drive id (`/drives/{id}/list`).
    #[arg(long, value_name = "DRIVE_ID")]
    drive_list: Option<String>,
    /// A Microsoft 365 group's drive (`/groups/{id}/drive/root`).
    #[arg(long, value_name = "GROUP_ID")]
    group: Option<String>,
    /// A SharePoint site's list (`/sites/{site}/lists/{list}/drive/root`); needs --list.
    #[arg(long, value_name = "SITE_ID", requires = "list")]
    site: Option<String>,
    #[arg(long, value_name = "LIST_ID", requires = "site")]
    list: Option<String>,
    /// A pasted OneDrive or SharePoint link.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Which account (id or sign-in name); may be left out with one account.
    #[arg(long)]
    account: Option<String>,
    /// A name to show instead of the drive's own.
    #[arg(long)]
    label: Option<String>,
}

impl AddTarget {
    fn spec(&self) -> Option<TargetSpec> {
        if self.me {
            return Some(TargetSpec::MyDrive);
        }
        if let Some(d) = &self.drive {
            return Some(TargetSpec::Drive {
                drive_id: d.clone(),
            });
        }
        if let Some(d) = &self.drive_list {
            return Some(TargetSpec::DriveList {
                drive_id: d.clone(),
            });
        }
        if let Some(g) = &self.group {
            return Some(TargetSpec::GroupDrive {
                group_id: g.clone(),
            });
        }
        if let (Some(s), Some(l)) = (&self.site, &self.list) {
            return Some(TargetSpec::SiteList {
                site_id: s.clone(),
                list_id: l.clone(),
            });
        }
        None
    }
}

pub async fn targets_add(ctx: &Context, args: AddTarget) -> Result<(), CliError> {
    let input = match (&args.url, args.spec()) {
        (Some(url), _) => TargetInput::Url(url.clone()),
        (None, Some(spec)) => TargetInput::Spec(spec),
        (None, None) => return Err(CliError::Usage("say what to watch".into())),
    };
    let workspace = workspace(ctx);
    let record = workspace.find_account(args.account.as_deref())?;
    let target = workspace
        .add_target(Some(&record.account.id), input, args.label.clone())
        .await?;
    println!("{}", target.id);
    eprintln!(
        "Added {} for {}.",
        output::clean(&target.label),
        output::clean(&record.account.username)
    );
    Ok(())
}

pub fn targets_list(ctx: &Context, json: bool) -> Result<(), CliError> {
    if json {
        println!(
            "{}",
            serde_json::to_string(&ctx.config.targets).unwrap_or_else(|_| "[]".into())
        );
        return Ok(());
    }
    if ctx.config.targets.is_empty() {
        eprintln!("No targets; `drivewatch-cli login` adds the account's OneDrive.");
    }
    for t in &ctx.config.targets {
        println!(
            "{}  {}  {}",
            t.id,
            output::clean(&t.label),
            serde_json::to_string(&t.spec).unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn targets_remove(ctx: &Context, id: &str) -> Result<(), CliError> {
    workspace(ctx).remove_target(id).await?;
    eprintln!("Removed target {id}.");
    Ok(())
}
