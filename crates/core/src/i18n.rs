//! The words DriveWatch shows a person, in English or Russian, from one set of catalogs.
//!
//! `locales/en.ftl` and `locales/ru.ftl` (Project Fluent, with CLDR plural rules) are embedded
//! here for the toasts and the tray, and imported by the window's UI, so a string exists once
//! and every face of the app names a state the same way. [`Locale::for_language`] follows the
//! user's setting, then the OS (`Language::System`). The CLI's human-readable output is a
//! developer tool and stays English; it does not use this module.
//!
//! Messages are plain text: Fluent's Unicode isolation marks are off (a toast or a menu has no
//! bidi context to protect and would show them as stray characters), and arguments are never
//! markup. Callers pass names already made safe to display (`toast_policy::display_name`);
//! hosts that render markup escape the finished text themselves. This module must never log an
//! argument (they are names from the drive) and never panic on a missing key or argument: the
//! key is shown instead, and a test keeps both catalogs complete.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

use crate::model::Language;

/// The catalogs' sources, as shipped.
pub const EN_FTL: &str = include_str!("../locales/en.ftl");
pub const RU_FTL: &str = include_str!("../locales/ru.ftl");

/// A language DriveWatch has a catalog for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    En,
    Ru,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Ru];

    /// The locale of a BCP 47 or POSIX tag (`ru-RU`, `ru_RU.UTF-8`); `None` for languages
    /// without a catalog (and for `C` or `POSIX`).
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let base = tag
            .split(['-', '_', '.', '@'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match base.as_str() {
            "en" => Some(Locale::En),
            "ru" => Some(Locale::Ru),
            _ => None,
        }
    }

    /// The setting, then the OS locale `system` for [`Language::System`], then English.
    pub fn resolve(language: Language, system: Option<&str>) -> Locale {
        match language {
            Language::En => Locale::En,
            Language::Ru => Locale::Ru,
            Language::System => system.and_then(Locale::from_tag).unwrap_or(Locale::En),
        }
    }

    /// [`Self::resolve`] with this process's OS locale (read once, see [`system_locale`]).
    pub fn for_language(language: Language) -> Locale {
        Locale::resolve(language, system_locale())
    }

    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Locale::En => EN_FTL,
            Locale::Ru => RU_FTL,
        }
    }
}

/// The OS's preferred locale (`sys-locale`), read once per process so that every toast of a
/// run speaks the same language. Unit tests of this crate never read the machine's locale:
/// they see none, and so English.
pub fn system_locale() -> Option<&'static str> {
    if cfg!(test) {
        return None;
    }
    static SYSTEM: OnceLock<Option<String>> = OnceLock::new();
    SYSTEM.get_or_init(sys_locale::get_locale).as_deref()
}

/// One argument of a message: text (a name, a path, a selector value) or a count, which
/// plural rules select on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    Text(&'a str),
    Count(u64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(text)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Arg::Text(text)
    }
}

impl From<usize> for Arg<'_> {
    fn from(count: usize) -> Self {
        Arg::Count(u64::try_from(count).unwrap_or(u64::MAX))
    }
}

/// One language's messages, parsed once per process and shared by every thread.
pub struct Catalog {
    locale: Locale,
    bundle: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

impl Catalog {
    /// The catalog of `locale`.
    pub fn get(locale: Locale) -> &'static Catalog {
        static CATALOGS: [OnceLock<Catalog>; 2] = [OnceLock::new(), OnceLock::new()];
        let slot = match locale {
            Locale::En => &CATALOGS[0],
            Locale::Ru => &CATALOGS[1],
        };
        slot.get_or_init(|| Catalog::parse(locale))
    }

    /// The catalog for the user's language setting (see [`Locale::for_language`]).
    pub fn for_language(language: Language) -> &'static Catalog {
        Catalog::get(Locale::for_language(language))
    }

    fn parse(locale: Locale) -> Catalog {
        // The sources are embedded and tested to parse cleanly; should one not, the messages
        // that did parse still serve, and the rest show their keys.
        let resource = FluentResource::try_new(locale.source().to_owned())
            .unwrap_or_else(|(partial, _errors)| partial);
        let id: LanguageIdentifier = locale.tag().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        bundle.set_use_isolating(false);
        bundle.add_resource_overriding(resource);
        Catalog { locale, bundle }
    }

    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// Whether the catalog has a message `key`.
    pub fn has(&self, key: &str) -> bool {
        self.bundle.has_message(key)
    }

    /// The message `key` with `args`, as plain text; the key itself when the catalog has no
    /// such message.
    pub fn text(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let Some(pattern) = self.bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_owned();
        };
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            let value = match *value {
                Arg::Text(text) => FluentValue::from(text),
                Arg::Count(count) => FluentValue::from(count),
            };
            fluent_args.set(*name, value);
        }
        let mut errors = Vec::new();
        self.bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }
}

#[cfg(test)]
mod tests;
