//! Markdown files, one per note: YAML front matter (id, title, created, updated, notebook)
//! and the body exactly as stored. Personal notes go into the folder itself, a notebook's
//! notes into a subfolder named after it (as Obsidian and Joplin lay notebooks out).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::names::{create_new, safe_file_name};
use super::notes_of;

/// What notebox writes above a note's body. On import the same keys are read from any
/// Markdown file (Obsidian's and Joplin's front matter included); other keys are ignored.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FrontMatter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook: Option<String>,
}

/// A Markdown document: front matter (when it has one) and the body after it, untouched.
pub struct Document<'a> {
    pub front_matter: Option<&'a str>,
    pub body: &'a str,
}

/// Splits `---\n<yaml>---\n<body>`; without a closing `---` line there is no front matter.
pub fn split(text: &str) -> Document<'_> {
    let no_front_matter = Document {
        front_matter: None,
        body: text,
    };
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return no_front_matter;
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "---" {
            return Document {
                front_matter: Some(&rest[..offset]),
                body: &rest[offset + line.len()..],
            };
        }
        offset += line.len();
    }
    no_front_matter
}

/// Writes every note of the user into `dir` (created if missing). Never overwrites: a
/// name already taken gets " (2)". Returns how many files were written.
pub async fn write_markdown(pool: &PgPool, user: Uuid, dir: &Path) -> anyhow::Result<usize> {
    let notes = notes_of(pool, user).await?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut folders: BTreeMap<String, PathBuf> = BTreeMap::new();
    for note in &notes {
        let folder = match &note.notebook {
            None => dir.to_path_buf(),
            Some(name) => match folders.get(name) {
                Some(folder) => folder.clone(),
                None => {
                    let folder = dir.join(safe_file_name(name));
                    std::fs::create_dir_all(&folder)
                        .with_context(|| format!("cannot create {}", folder.display()))?;
                    folders.insert(name.clone(), folder.clone());
                    folder
                }
            },
        };
        let front_matter = FrontMatter {
            id: Some(note.id.hyphenated().to_string()),
            title: Some(note.title.clone()),
            created: Some(note.created_at.to_rfc3339()),
            updated: Some(note.updated_at.to_rfc3339()),
            notebook: note.notebook.clone(),
        };
        let yaml = serde_yaml_ng::to_string(&front_matter)?;
        let (path, mut file) = create_new(&folder, &safe_file_name(&note.title), "md")
            .with_context(|| format!("cannot create a file in {}", folder.display()))?;
        file.write_all(format!("---\n{yaml}---\n").as_bytes())
            .and_then(|()| file.write_all(note.body.as_bytes()))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(notes.len())
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn front_matter_is_split_off_and_the_body_kept_byte_for_byte() {
        let doc = split("---\ntitle: A\n---\n\nbody\n---\nmore");
        assert_eq!(doc.front_matter, Some("title: A\n"));
        assert_eq!(doc.body, "\nbody\n---\nmore");
        let doc = split("---\r\ntitle: A\r\n---\r\nx");
        assert_eq!(doc.front_matter, Some("title: A\r\n"));
        assert_eq!(doc.body, "x");
        assert!(split("--- not front matter").front_matter.is_none());
        assert!(split("---\nnever closed").front_matter.is_none());
    }
}
