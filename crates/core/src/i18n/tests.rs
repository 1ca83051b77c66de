//! The catalogs themselves: both parse, both have every key, every message formats.

use super::*;

/// The message ids of a catalog source, in order (a message starts a line with `id =`).
fn keys(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once(" ="))
        .map(|(id, _)| id.trim().to_owned())
        .collect()
}

#[test]
fn both_catalogs_parse_without_errors() {
    for locale in Locale::ALL {
        let parsed = FluentResource::try_new(locale.source().to_owned());
        assert!(
            parsed.is_ok(),
            "{}: {:?}",
            locale.tag(),
            parsed.err().map(|(_, e)| e)
        );
        let mut bundle = FluentBundle::new_concurrent(vec![
            locale.tag().parse::<LanguageIdentifier>().expect("a tag"),
        ]);
        assert!(
            bundle.add_resource(parsed.expect("checked above")).is_ok(),
            "{}: a key is defined twice",
            locale.tag()
        );
    }
}

#[test]
fn every_key_exists_in_both_languages_once() {
    let mut en = keys(EN_FTL);
    let mut ru = keys(RU_FTL);
    assert!(en.len() > 150, "found {} keys", en.len());
    en.sort();
    ru.sort();
    let (en_len, ru_len) = (en.len(), ru.len());
    en.dedup();
    ru.dedup();
    assert_eq!(
        (en.len(), ru.len()),
        (en_len, ru_len),
        "a key is defined twice"
    );
    let only_en: Vec<&String> = en.iter().filter(|k| !ru.contains(k)).collect();
    let only_ru: Vec<&String> = ru.iter().filter(|k| !en.contains(k)).collect();
    assert!(only_en.is_empty(), "missing in ru.ftl: {only_en:?}");
    assert!(only_ru.is_empty(), "missing in en.ftl: {only_ru:?}");
    for key in &en {
        for locale in Locale::ALL {
            assert!(Catalog::get(locale).has(key), "{key} in {}", locale.tag());
        }
    }
}

#[test]
fn every_message_formats_without_errors_or_isolation_marks() {
    let mut args = FluentArgs::new();
    for name in [
        "who", "name", "old", "folder", "from", "body", "names", "state", "time", "change", "uri",
        "username", "path", "message", "reason", "relative", "pattern",
    ] {
        args.set(name, FluentValue::from("x"));
    }
    args.set("isFolder", FluentValue::from("no"));
    args.set("noun", FluentValue::from("files"));
    for count in ["count", "items", "pages", "rest"] {
        args.set(count, FluentValue::from(5));
    }
    for locale in Locale::ALL {
        let catalog = Catalog::get(locale);
        for key in keys(locale.source()) {
            let message = catalog.bundle.get_message(&key).expect("the key parses");
            let pattern = message.value().expect("every message has a value");
            let mut errors = Vec::new();
            let text = catalog
                .bundle
                .format_pattern(pattern, Some(&args), &mut errors);
            assert!(errors.is_empty(), "{key} ({}): {errors:?}", locale.tag());
            assert!(!text.trim().is_empty(), "{key} ({}) is empty", locale.tag());
            assert!(
                !text.contains(['\u{2068}', '\u{2069}']),
                "{key} ({}) has isolation marks",
                locale.tag()
            );
        }
    }
}

#[test]
fn counts_follow_each_language_s_plural_rules() {
    let count = |locale, n: usize| {
        Catalog::get(locale).text(
            "toast_count",
            &[("count", Arg::from(n)), ("noun", Arg::from("files"))],
        )
    };
    let en: Vec<String> = [1, 2, 5, 21, 111].map(|n| count(Locale::En, n)).into();
    assert_eq!(
        en,
        ["1 file", "2 files", "5 files", "21 files", "111 files"]
    );
    let ru: Vec<String> = [1, 2, 3, 5, 11, 21, 22, 111]
        .map(|n| count(Locale::Ru, n))
        .into();
    assert_eq!(
        ru,
        [
            "1 файл",
            "2 файла",
            "3 файла",
            "5 файлов",
            "11 файлов",
            "21 файл",
            "22 файла",
            "111 файлов"
        ]
    );
}

#[test]
fn arguments_stay_text_and_missing_keys_show_themselves() {
    let en = Catalog::get(Locale::En);
    let name = "<b>{ $who }</b> & $1";
    assert_eq!(
        en.text("openItem", &[("name", Arg::from(name))]),
        format!("Open {name} in the browser")
    );
    assert_eq!(en.text("no_such_key", &[]), "no_such_key");
}

#[test]
fn the_setting_wins_then_the_os_then_english() {
    assert_eq!(
        Locale::resolve(Language::Ru, Some("en_US.UTF-8")),
        Locale::Ru
    );
    assert_eq!(Locale::resolve(Language::En, Some("ru-RU")), Locale::En);
    assert_eq!(
        Locale::resolve(Language::System, Some("ru_RU.UTF-8")),
        Locale::Ru
    );
    assert_eq!(Locale::resolve(Language::System, Some("ru")), Locale::Ru);
    assert_eq!(Locale::resolve(Language::System, Some("de-DE")), Locale::En);
    assert_eq!(Locale::resolve(Language::System, Some("C")), Locale::En);
    assert_eq!(Locale::resolve(Language::System, None), Locale::En);
    // Unit tests never see the machine's locale.
    assert_eq!(Locale::for_language(Language::System), Locale::En);
}
