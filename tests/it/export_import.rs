//! `notebox export` and `notebox import` against real Postgres: round trips into a fresh
//! user byte for byte (Markdown and SQLite, the SQLite file opened with rusqlite), the id
//! rules, no overwrites, bad files skipped by name, nothing half-imported.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use notebox::export;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::url_of;

async fn user(pool: &PgPool, email: &str) -> Uuid {
    notebox::auth::users::create(pool, email, "", "!no-login", false)
        .await
        .unwrap()
        .id
}

async fn note(pool: &PgPool, owner: Uuid, notebook: Option<Uuid>, title: &str, body: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into notes (id, owner_id, notebook_id, title, body) values ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(owner)
    .bind(notebook)
    .bind(title)
    .bind(body)
    .execute(pool)
    .await
    .unwrap();
    id
}

async fn notebook(pool: &PgPool, creator: Uuid, name: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("insert into notebooks (id, name, created_by) values ($1, $2, $3)")
        .bind(id)
        .bind(name)
        .bind(creator)
        .execute(pool)
        .await
        .unwrap();
    id
}

/// Titles and bodies that break naive exporters: separators in titles, a body that looks
/// like front matter, CRLF, leading and trailing blank lines, no final newline, unicode,
/// two notes with one title, an empty note.
const TRICKY: &[(&str, &str)] = &[
    ("Plans: Q3/Q4?", "# Plans\n\n- one\n- two\n"),
    (
        "Front matter lookalike",
        "---\ntitle: not me\n---\nbody after\n---\n",
    ),
    ("Windows", "line one\r\nline two\r\n"),
    ("Whitespace", "\n\n  indented\t\n\n"),
    ("No final newline", "last line"),
    ("Ünïcödé 📝", "日本語のノート\n"),
    ("Twice", "first of two"),
    ("Twice", "second of two"),
    ("", ""),
];

async fn tricky_notes(pool: &PgPool, owner: Uuid) -> BTreeSet<(String, String)> {
    for (title, body) in TRICKY {
        note(pool, owner, None, title, body).await;
    }
    contents(pool, owner).await
}

async fn contents(pool: &PgPool, owner: Uuid) -> BTreeSet<(String, String)> {
    sqlx::query_as("select title, body from notes where owner_id = $1")
        .bind(owner)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("notebox-{name}-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[sqlx::test]
async fn markdown_round_trip_into_a_fresh_user_is_byte_for_byte(pool: PgPool) {
    let ann = user(&pool, "ann@example.org").await;
    let work = notebook(&pool, ann, "Work / Projects").await;
    note(&pool, ann, Some(work), "Roadmap", "in a notebook\n").await;
    let original = tricky_notes(&pool, ann).await;
    let dir = temp_dir("md");

    let written = export::write_markdown(&pool, ann, &dir).await.unwrap();
    assert_eq!(written, TRICKY.len() + 1);
    let files = files_under(&dir);
    assert_eq!(
        files.len(),
        written,
        "one file per note, the two 'Twice' ones included"
    );
    assert!(dir.join("Plans_ Q3_Q4_.md").is_file(), "{files:?}");
    assert!(
        dir.join("Work _ Projects").join("Roadmap.md").is_file(),
        "notebook notes in its folder"
    );
    let roadmap = std::fs::read_to_string(dir.join("Work _ Projects/Roadmap.md")).unwrap();
    assert!(roadmap.starts_with("---\nid: "), "{roadmap}");
    assert!(
        roadmap.contains("\nnotebook: Work / Projects\n"),
        "{roadmap}"
    );
    assert!(
        roadmap.contains("\ncreated: ") && roadmap.contains("\nupdated: "),
        "{roadmap}"
    );

    let bob = user(&pool, "bob@example.org").await;
    let report = export::import(&pool, bob, &dir).await.unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.imported, written);
    assert_eq!(
        report.new_ids, written,
        "Ann's ids are hers: Bob's copies get fresh ones"
    );
    assert_eq!(
        report.made_personal, 1,
        "Bob cannot write to Ann's notebook"
    );
    let mut expected = original.clone();
    expected.insert(("Roadmap".into(), "in a notebook\n".into()));
    let imported = contents(&pool, bob).await;
    assert_eq!(imported, expected);
    assert_eq!(
        contents(&pool, ann).await.len(),
        written,
        "Ann's notes are untouched"
    );

    // A second export into the same folder overwrites nothing.
    export::write_markdown(&pool, ann, &dir).await.unwrap();
    assert_eq!(files_under(&dir).len(), 2 * written);
    assert!(dir.join("Plans_ Q3_Q4_ (2).md").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[sqlx::test]
async fn sqlite_export_has_the_synced_tables_and_round_trips(pool: PgPool) {
    let ann = user(&pool, "ann@example.org").await;
    let work = notebook(&pool, ann, "Work").await;
    let in_notebook = note(&pool, ann, Some(work), "Roadmap", "shared\n").await;
    let original = tricky_notes(&pool, ann).await;
    let dir = temp_dir("sqlite");
    let file = dir.join("ann.sqlite");

    let counts = export::write_sqlite(&pool, ann, "ann@example.org", &file)
        .await
        .unwrap();
    assert_eq!(
        counts,
        vec![
            ("notes", TRICKY.len() + 1),
            ("notebooks", 1),
            ("notebook_members", 1)
        ]
    );
    let db = rusqlite::Connection::open(&file).unwrap();
    let pg_columns: Vec<String> = sqlx::query_scalar(
        "select column_name::text from information_schema.columns where table_schema = current_schema() and table_name = 'notes' order by ordinal_position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let sqlite_columns: Vec<String> = db
        .prepare("select name from pragma_table_info('notes') order by cid")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(sqlite_columns, pg_columns, "the columns the clients sync");
    let from_file: BTreeSet<(String, String)> = db
        .prepare("select title, body from notes")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(from_file, original, "byte for byte in the file");
    let notebook_of: String = db
        .query_row(
            "select notebook_id from notes where id = ?",
            [in_notebook.to_string()],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(notebook_of, work.to_string());
    let role: String = db
        .query_row("select role from notebook_members", [], |row| row.get(0))
        .unwrap();
    assert_eq!(role, "owner");
    drop(db);

    let before = std::fs::read(&file).unwrap();
    let again = export::write_sqlite(&pool, ann, "ann@example.org", &file).await;
    assert!(again.unwrap_err().to_string().contains("never overwrites"));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the existing file is untouched"
    );

    let cat = user(&pool, "cat@example.org").await;
    let report = export::import(&pool, cat, &file).await.unwrap();
    assert_eq!(report.imported, TRICKY.len() + 1);
    assert_eq!(
        contents(&pool, cat).await,
        original,
        "byte for byte in Postgres"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[sqlx::test]
async fn reimport_keeps_ids_and_never_touches_another_users_note(pool: PgPool) {
    let ann = user(&pool, "ann@example.org").await;
    let id = note(&pool, ann, None, "Mine", "original\n").await;
    let dir = temp_dir("ids");
    export::write_markdown(&pool, ann, &dir).await.unwrap();
    let file = dir.join("Mine.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("original\n", "edited in another app\n")).unwrap();

    // Ann imports her own export again: same id, updated, no duplicate.
    let report = export::import(&pool, ann, &dir).await.unwrap();
    assert_eq!(
        (report.imported, report.kept_ids, report.new_ids),
        (1, 1, 0)
    );
    let body: String = sqlx::query_scalar("select body from notes where id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(body, "edited in another app\n");
    let again = export::import(&pool, ann, &dir).await.unwrap();
    assert_eq!(again.kept_ids, 1);
    assert_eq!(contents(&pool, ann).await.len(), 1, "idempotent");

    // Bob imports a file carrying Ann's id: he gets a copy with a new id, hers is untouched.
    let bob = user(&pool, "bob@example.org").await;
    std::fs::write(&file, text.replace("original\n", "Bob's version\n")).unwrap();
    let report = export::import(&pool, bob, &dir).await.unwrap();
    assert_eq!((report.kept_ids, report.new_ids), (0, 1));
    let (owner, body): (Uuid, String) =
        sqlx::query_as("select owner_id, body from notes where id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((owner, body.as_str()), (ann, "edited in another app\n"));
    assert_eq!(
        contents(&pool, bob).await,
        BTreeSet::from([("Mine".to_owned(), "Bob's version\n".to_owned())])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[sqlx::test]
async fn obsidian_and_joplin_folders_import_and_bad_files_are_skipped_by_name(pool: PgPool) {
    let ann = user(&pool, "ann@example.org").await;
    let dir = temp_dir("vault");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    // Obsidian: title from the file name, tag lists in front matter, a hidden config folder.
    write(
        "Daily/2024-01-31.md",
        b"---\ntags: [journal, work]\naliases:\n  - today\n---\nWent well.\n",
    );
    write(".obsidian/workspace.md", b"not a note");
    write("Daily/diagram.png", &[0x89, b'P', b'N', b'G']);
    // Joplin's Markdown + Front Matter export: title, Joplin timestamps.
    write(
        "Notebook/Shopping.md",
        b"---\ntitle: Shopping list\ncreated: 2021-03-04 05:06:07Z\nupdated: 2021-03-05 05:06:07Z\n---\n\n- milk\n",
    );
    write("plain.txt", b"just text\n");
    // Bad ones.
    write("broken-yaml.md", b"---\ntitle: [unclosed\n---\nbody\n");
    write("latin1.md", &[b'c', b'a', b'f', 0xe9]);
    write("nul.md", b"has a \0 byte");
    write(
        "long.md",
        format!("---\ntitle: {}\n---\n", "x".repeat(1001)).as_bytes(),
    );

    let report = export::import(&pool, ann, &dir).await.unwrap();
    let skipped: Vec<&str> = report
        .skipped
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        skipped,
        ["broken-yaml.md", "latin1.md", "long.md", "nul.md"],
        "{:?}",
        report.skipped
    );
    assert!(report.skipped[1].1.contains("UTF-8"));
    assert_eq!(report.imported, 3);
    assert_eq!(report.ignored, 1, "the image");
    assert_eq!(
        contents(&pool, ann).await,
        BTreeSet::from([
            ("2024-01-31".to_owned(), "Went well.\n".to_owned()),
            ("Shopping list".to_owned(), "\n- milk\n".to_owned()),
            ("plain".to_owned(), "just text\n".to_owned()),
        ])
    );
    let created: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select created_at from notes where title = 'Shopping list'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(created.to_rfc3339(), "2021-03-04T05:06:07+00:00");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[sqlx::test]
async fn an_import_that_fails_midway_leaves_nothing_behind(pool: PgPool) {
    let ann = user(&pool, "ann@example.org").await;
    let dir = temp_dir("atomic");
    for name in ["a.md", "b.md", "explode.md", "z.md"] {
        std::fs::write(dir.join(name), "body\n").unwrap();
    }
    // Postgres refuses the third note (as a constraint or a dropped connection would).
    sqlx::raw_sql(
        "create function refuse_explode() returns trigger language plpgsql as $$
         begin if new.title = 'explode' then raise exception 'refused'; end if; return new; end $$;
         create trigger refuse_explode before insert on notes for each row execute function refuse_explode();",
    )
    .execute(&pool)
    .await
    .unwrap();

    let error = export::import(&pool, ann, &dir).await.unwrap_err();
    assert!(format!("{error:#}").contains("explode.md"), "{error:#}");
    assert!(
        contents(&pool, ann).await.is_empty(),
        "a.md and b.md were rolled back"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The commands as a user types them: `export --all`, then `import` of one of its files
/// into another account; an existing file and an unknown user are refused with a sentence.
#[sqlx::test]
async fn export_all_then_import_through_the_cli(pool: PgPool) {
    let ann = user(&pool, "ann@example.org").await;
    let bob = user(&pool, "bob@example.org").await;
    let original = tricky_notes(&pool, ann).await;
    let out = temp_dir("cli").join("all");
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_notebox"))
            .env_clear()
            .env("NOTEBOX_DATABASE__URL", url_of(&pool))
            .env("NOTEBOX_LOG__LEVEL", "warn")
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stderr)
    };
    let out_arg = out.to_str().unwrap();

    assert_eq!(run(&["export", "--all", "--out", out_arg]).0, Some(0));
    let ann_file = out.join("ann@example.org.sqlite");
    assert!(ann_file.is_file() && out.join("bob@example.org.sqlite").is_file());
    let (code, stderr) = run(&[
        "import",
        "--user",
        "bob@example.org",
        ann_file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(contents(&pool, bob).await, original, "byte for byte");

    let (code, stderr) = run(&["export", "--all", "--out", out_arg]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("never overwrites"), "{stderr}");
    let (code, stderr) = run(&[
        "export",
        "--user",
        "nobody@example.org",
        "--out",
        "x.sqlite",
    ]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("no user with email nobody@example.org"),
        "{stderr}"
    );
    std::fs::remove_dir_all(out.parent().unwrap()).unwrap();
}
