//! Generates the statement registry from `sql/oracle/queries/*.sql` (one Oracle statement per
//! file) and the optional SQLite overrides in `sql/sqlite/queries/`, and the list of schema steps
//! of both dialects. Adding a statement is adding a file; nothing else lists them.
use std::fmt::Write as _;
use std::path::Path;

fn sql_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let root = Path::new(&root);
    let oq = root.join("sql/oracle/queries");
    let sq = root.join("sql/sqlite/queries");
    println!("cargo:rerun-if-changed=sql");
    let mut out = String::new();
    for name in sql_files(&oq) {
        let stem = name.trim_end_matches(".sql");
        let konst = stem.to_uppercase();
        let oracle = oq.join(&name);
        let sqlite = if sq.join(&name).exists() {
            sq.join(&name)
        } else {
            oracle.clone()
        };
        writeln!(
            out,
            "pub const {konst}: Stmt = Stmt {{ name: {stem:?}, oracle: include_str!({o:?}), sqlite: include_str!({s:?}) }};",
            o = oracle.display().to_string(),
            s = sqlite.display().to_string()
        )
        .unwrap();
    }
    for name in sql_files(&sq) {
        if !oq.join(&name).exists() {
            panic!("sql/sqlite/queries/{name} overrides no statement of sql/oracle/queries");
        }
    }
    let mut steps = String::new();
    for dialect in ["oracle", "sqlite"] {
        let dir = root.join("sql").join(dialect).join("steps");
        writeln!(
            steps,
            "pub const {}_STEPS: &[Step] = &[",
            dialect.to_uppercase()
        )
        .unwrap();
        for name in sql_files(&dir) {
            // V001__base.sql
            let version: u32 = name
                .trim_start_matches('V')
                .split("__")
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("step file {name} is not named VNNN__name.sql"));
            let label = name
                .split("__")
                .nth(1)
                .unwrap_or("")
                .trim_end_matches(".sql");
            writeln!(
                steps,
                "    Step {{ version: {version}, name: {label:?}, file: {name:?}, sql: include_str!({p:?}) }},",
                p = dir.join(&name).display().to_string()
            )
            .unwrap();
        }
        writeln!(steps, "];").unwrap();
    }
    let od = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(Path::new(&od).join("queries.rs"), out).unwrap();
    std::fs::write(Path::new(&od).join("steps.rs"), steps).unwrap();
}
