#![allow(clippy::result_large_err)] // figment::Jail closures return figment::Error by design.

use std::path::Path;
use std::time::Duration;

use figment::Jail;

use super::*;

fn load(jail: &Jail, file: Option<&str>) -> Result<Config, ConfigError> {
    Config::load(file.map(|f| jail.directory().join(f)).as_deref())
}

fn error_text(jail: &Jail, file: Option<&str>) -> String {
    load(jail, file)
        .expect_err("config should be refused")
        .to_string()
}

#[test]
fn shipped_default_file_equals_builtin_defaults() {
    let from_file: Config = Figment::new()
        .merge(Toml::string(DEFAULT_TOML))
        .extract()
        .unwrap();
    assert_eq!(
        toml::to_string(&from_file).unwrap(),
        toml::to_string(&Config::default()).unwrap()
    );
    assert!(Config::default().problems().is_empty());
}

#[test]
fn layers_file_then_env_then_secret_files() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "notebox.toml",
            r#"
            [server]
            bind = "127.0.0.1:9000"
            public_url = "https://notes.example.org"
            [powersync]
            token_ttl = "30m"
            audience = "from-file"
            "#,
        )?;
        jail.set_env("NOTEBOX_POWERSYNC__AUDIENCE", "from-env");
        jail.set_env("NOTEBOX_UPLOAD__MAX_BODY", "2MiB");
        jail.create_file("db_url", "postgres://app:s3cret@db:5432/notes\n")?;
        jail.set_env(
            "NOTEBOX_DATABASE__URL_FILE",
            jail.directory().join("db_url").display(),
        );
        let config = load(jail, Some("notebox.toml")).unwrap();
        assert_eq!(config.server.bind.to_string(), "127.0.0.1:9000");
        assert_eq!(config.powersync.token_ttl, Duration::from_secs(1800));
        assert_eq!(config.powersync.audience, "from-env");
        assert_eq!(config.upload.max_body, ByteSize::mib(2));
        assert_eq!(
            config.database.url.expose(),
            "postgres://app:s3cret@db:5432/notes"
        );
        // Untouched values keep their defaults.
        assert_eq!(config.auth.signup, SignupPolicy::Closed);
        assert!(
            config.upload.tables.is_empty(),
            "notebox's own tables need no entry"
        );
        Ok(())
    });
}

#[test]
fn secret_file_wins_over_plain_env() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("NOTEBOX_POWERSYNC__REPLICATION_PASSWORD", "plain");
        jail.create_file("pw", "from-file")?;
        jail.set_env(
            "NOTEBOX_POWERSYNC__REPLICATION_PASSWORD_FILE",
            jail.directory().join("pw").display(),
        );
        let config = load(jail, None).unwrap();
        assert_eq!(
            config.powersync.replication_password.unwrap().expose(),
            "from-file"
        );
        Ok(())
    });
}

#[test]
fn missing_secret_file_names_the_variable() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("NOTEBOX_DATABASE__URL_FILE", "/nonexistent/secret");
        let text = error_text(jail, None);
        assert!(
            text.contains("NOTEBOX_DATABASE__URL_FILE") && text.contains("/nonexistent/secret"),
            "{text}"
        );
        Ok(())
    });
}

#[test]
fn missing_config_file_is_an_error() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let text = error_text(jail, Some("nope.toml"));
        assert!(
            text.contains("nope.toml") && text.contains("does not exist"),
            "{text}"
        );
        Ok(())
    });
}

#[test]
fn unknown_key_in_file_is_named_with_the_file() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "notebox.toml",
            "[server]\nbind = \"127.0.0.1:1\"\nbindd = \"x\"\n",
        )?;
        let text = error_text(jail, Some("notebox.toml"));
        assert!(text.contains("server.bindd"), "{text}");
        assert!(text.contains("notebox.toml"), "{text}");
        Ok(())
    });
}

#[test]
fn unknown_section_is_an_error() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("notebox.toml", "[sever]\nbind = \"127.0.0.1:1\"\n")?;
        let text = error_text(jail, Some("notebox.toml"));
        assert!(text.contains("sever"), "{text}");
        Ok(())
    });
}

#[test]
fn unknown_key_in_env_names_the_variable() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("NOTEBOX_SERVER__PORT", "80");
        let text = error_text(jail, None);
        assert!(text.contains("server.port"), "{text}");
        assert!(text.contains("NOTEBOX_SERVER__PORT"), "{text}");
        Ok(())
    });
}

#[test]
fn wrong_type_names_key_and_source() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("notebox.toml", "[database]\nmax_connections = \"many\"\n")?;
        let text = error_text(jail, Some("notebox.toml"));
        assert!(
            text.contains("database.max_connections") && text.contains("notebox.toml"),
            "{text}"
        );
        jail.set_env("NOTEBOX_SERVER__BIND", "not-an-address");
        let text = error_text(jail, None);
        assert!(
            text.contains("server.bind") && text.contains("NOTEBOX_SERVER__BIND"),
            "{text}"
        );
        Ok(())
    });
}

#[test]
fn bad_duration_and_size_are_refused() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("NOTEBOX_AUTH__SESSION_TTL", "forever");
        assert!(error_text(jail, None).contains("auth.session_ttl"));
        jail.set_env("NOTEBOX_AUTH__SESSION_TTL", "30d");
        jail.set_env("NOTEBOX_UPLOAD__MAX_BODY", "huge");
        assert!(error_text(jail, None).contains("upload.max_body"));
        Ok(())
    });
}

#[test]
fn token_ttl_over_a_day_is_refused_with_the_reason() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("NOTEBOX_POWERSYNC__TOKEN_TTL", "25h");
        let text = error_text(jail, None);
        assert!(
            text.contains("powersync.token_ttl") && text.contains("24h"),
            "{text}"
        );
        jail.set_env("NOTEBOX_POWERSYNC__TOKEN_TTL", "24h");
        assert!(load(jail, None).is_ok());
        Ok(())
    });
}

#[test]
fn urls_and_enums_are_validated() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("NOTEBOX_SERVER__PUBLIC_URL", "not a url");
        assert!(error_text(jail, None).contains("server.public_url"));
        jail.set_env("NOTEBOX_SERVER__PUBLIC_URL", "ftp://example.org");
        assert!(error_text(jail, None).contains("http:// or https://"));
        jail.set_env("NOTEBOX_SERVER__PUBLIC_URL", "http://localhost:8080");
        jail.set_env("NOTEBOX_DATABASE__URL", "mysql://x@y/z");
        assert!(error_text(jail, None).contains("postgres://"));
        jail.set_env("NOTEBOX_DATABASE__URL", "postgres://x@y/z");
        jail.set_env("NOTEBOX_AUTH__SIGNUP", "maybe");
        let text = error_text(jail, None);
        assert!(
            text.contains("auth.signup") && text.contains("open"),
            "{text}"
        );
        Ok(())
    });
}

#[test]
fn several_problems_are_all_reported() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("NOTEBOX_POWERSYNC__TOKEN_TTL", "0s");
        jail.set_env("NOTEBOX_POWERSYNC__AUDIENCE", " ");
        let text = error_text(jail, None);
        assert!(
            text.contains("token_ttl") && text.contains("audience"),
            "{text}"
        );
        Ok(())
    });
}

#[test]
fn redacted_output_hides_every_secret() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env(
            "NOTEBOX_DATABASE__URL",
            "postgres://app:hunter2hunter2@db/notes",
        );
        jail.set_env("NOTEBOX_POWERSYNC__REPLICATION_PASSWORD", "replsecret");
        jail.set_env("NOTEBOX_POWERSYNC__STORAGE_PASSWORD", "storesecret");
        let config = load(jail, None).unwrap();
        let printed = config.to_redacted_toml();
        for secret in ["hunter2hunter2", "replsecret", "storesecret"] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
            assert!(
                !format!("{config:?}").contains(secret),
                "{secret} leaked in Debug"
            );
        }
        assert!(printed.contains("postgres://app:***@db/notes"), "{printed}");
        // The printed config is itself a valid config file (with secrets masked).
        let reparsed: Result<Config, _> = Figment::new().merge(Toml::string(&printed)).extract();
        assert!(reparsed.is_ok(), "{reparsed:?}");
        Ok(())
    });
}

#[test]
fn config_path_must_be_a_file() {
    assert!(matches!(
        Config::load(Some(Path::new("/"))),
        Err(ConfigError::MissingFile(_))
    ));
}

#[test]
fn single_underscore_gets_a_nesting_hint_and_e2e_variables_are_ignored() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("NOTEBOX_E2E_POWERSYNC_URL", "http://127.0.0.1:8095");
        assert!(
            load(jail, None).is_ok(),
            "the e2e harness's variables are not notebox config"
        );
        jail.set_env("NOTEBOX_DATABASE_URL", "postgres://x@y/z");
        let text = error_text(jail, None);
        assert!(text.contains("NOTEBOX_DATABASE__URL"), "{text}");
        Ok(())
    });
}

#[test]
fn invitation_ttl_defaults_to_a_week_and_must_be_positive() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let config = load(jail, None).unwrap();
        assert_eq!(
            config.auth.invitation_ttl,
            Duration::from_secs(7 * 24 * 3600)
        );
        jail.set_env("NOTEBOX_AUTH__INVITATION_TTL", "0s");
        assert!(error_text(jail, None).contains("auth.invitation_ttl"));
        jail.set_env("NOTEBOX_AUTH__INVITATION_TTL", "2d");
        assert_eq!(
            load(jail, None).unwrap().auth.invitation_ttl,
            Duration::from_secs(2 * 24 * 3600)
        );
        Ok(())
    });
}

#[test]
fn placeholder_secrets_are_refused_naming_the_key() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        for (var, value, key) in [
            (
                "NOTEBOX_POWERSYNC__REPLICATION_PASSWORD",
                "change-me",
                "powersync.replication_password",
            ),
            (
                "NOTEBOX_POWERSYNC__STORAGE_PASSWORD",
                "",
                "powersync.storage_password",
            ),
            (
                "NOTEBOX_POWERSYNC__API_TOKEN",
                "PASSWORD",
                "powersync.api_token",
            ),
            (
                "NOTEBOX_POWERSYNC__API_TOKEN",
                "ChangeMe",
                "powersync.api_token",
            ),
        ] {
            jail.set_env(var, value);
            let error = error_text(jail, None);
            assert!(
                error.contains(key) && error.contains("placeholder"),
                "{error}"
            );
            jail.set_env(var, "9f8e7d6c5b4a39281706f5e4d3c2b1a0");
        }
        assert!(load(jail, None).is_ok());
        Ok(())
    });
}

#[test]
fn trusted_proxies_take_ranges_and_addresses_and_refuse_garbage() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env(
            "NOTEBOX_SERVER__TRUSTED_PROXIES",
            r#"["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"]"#,
        );
        let config = load(jail, None).unwrap();
        let nets: Vec<String> = config
            .server
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"]);
        jail.set_env("NOTEBOX_SERVER__TRUSTED_PROXIES", r#"["my-proxy"]"#);
        let error = error_text(jail, None);
        assert!(
            error.contains("server.trusted_proxies") && error.contains("my-proxy"),
            "{error}"
        );
        Ok(())
    });
}
