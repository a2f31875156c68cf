//! `kontor dev seed`, `transactions` with filters and cursors, and `export`, as a program drives them
//! (`--json`), on a passphrase vault in a temporary directory: the pages add up to the printed count
//! and sum, and the exports hold exactly those rows.

use std::process::Command;

use rust_decimal::Decimal;
use serde_json::Value;

const PASSPHRASE: &str = "correct horse battery";

fn kontor(dir: &tempfile::TempDir, args: &[&str]) -> (i32, Vec<Value>) {
    let output = Command::new(env!("CARGO_BIN_EXE_kontor"))
        .arg("--json")
        .args(args)
        .env("KONTOR_DATA_DIR", dir.path())
        .env("KONTOR_PASSPHRASE", PASSPHRASE)
        .env_remove("KONTOR_LOG")
        .output()
        .unwrap_or_else(|e| panic!("kontor: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    (output.status.code().unwrap_or(-1), lines)
}

fn result(lines: &[Value], kind: &str) -> Value {
    let line = lines.last().cloned().unwrap_or_default();
    assert_eq!(line["type"], "result", "{line}");
    assert_eq!(line["kind"], kind, "{line}");
    line
}

fn decimal(value: &Value) -> Decimal {
    value.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a decimal string: {value}"))
}

#[test]
fn filtered_pages_add_up_to_the_count_and_sum_and_the_exports_hold_the_same_rows() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let (status, lines) = kontor(
        &dir,
        &[
            "dev",
            "seed",
            "--transactions",
            "3000",
            "--seed",
            "3",
            "--accounts",
            "3",
            "--years",
            "2",
            "--until",
            "2026-11-30",
        ],
    );
    assert_eq!(status, 0, "{lines:?}");
    let seeded = result(&lines, "seeded");
    assert_eq!(seeded["transactions"], 3000);
    let account = seeded["accounts"][0].as_str().unwrap_or_default().to_owned();

    let filters = ["--account", account.as_str(), "--from", "2025-03-01", "--to", "2026-06-30", "--direction", "out"];
    let mut args: Vec<String> =
        ["transactions", "--limit", "97"].iter().chain(filters.iter()).map(|s| s.to_string()).collect();
    let (status, lines) = kontor(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(status, 0, "{lines:?}");
    let first = result(&lines, "transactions");
    let count = first["count"].as_u64().unwrap_or_default();
    let total = decimal(&first["totals"][0]["sum"]);
    assert!(count > 200, "{first}");
    assert!(total < Decimal::ZERO);

    let mut ids = Vec::new();
    let mut sum = Decimal::ZERO;
    let mut page = first;
    loop {
        assert_eq!(page["count"].as_u64(), Some(count), "every page prints the count of the whole set");
        for row in page["transactions"].as_array().cloned().unwrap_or_default() {
            assert_eq!(row["account_id"].as_str(), Some(account.as_str()));
            let date = row["booking_date"].as_str().unwrap_or_default();
            assert!(("2025-03-01"..="2026-06-30").contains(&date), "{date}");
            sum += decimal(&row["amount"]);
            ids.push(row["id"].as_i64().unwrap_or_default());
        }
        let Some(next) = page["next"].as_str().map(str::to_owned) else { break };
        args.truncate(3 + filters.len());
        args.extend(["--after".to_owned(), next]);
        let (status, lines) = kontor(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(status, 0, "{lines:?}");
        page = result(&lines, "transactions");
    }
    assert_eq!(ids.len() as u64, count);
    assert_eq!(sum, total);

    let csv_path = dir.path().join("export.csv");
    let csv_arg = csv_path.display().to_string();
    let mut export: Vec<&str> = vec!["export", "--format", "csv", "--locale", "de", "--output", &csv_arg];
    export.extend(filters);
    let (status, lines) = kontor(&dir, &export);
    assert_eq!(status, 0, "{lines:?}");
    assert_eq!(result(&lines, "exported")["count"].as_u64(), Some(count));
    let csv = std::fs::read_to_string(&csv_path).unwrap_or_else(|e| panic!("{e}"));
    let csv = csv.strip_prefix('\u{feff}').unwrap_or_else(|| panic!("the CSV starts with a byte order mark"));
    let mut rows = csv.split("\r\n").filter(|l| !l.is_empty());
    assert!(rows.next().is_some_and(|h| h.starts_with("Buchungstag;Wertstellung;Konto;") && h.ends_with(";ID")));
    let mut csv_sum = Decimal::ZERO;
    let mut csv_rows = 0u64;
    for row in rows {
        // Amounts are the fifth field; the fields before it never contain the separator.
        let amount = row.split(';').nth(4).unwrap_or_default();
        assert!(amount.contains(',') && !amount.contains('.'), "a German amount: {amount}");
        csv_sum += amount.replace(',', ".").parse::<Decimal>().unwrap_or_else(|e| panic!("{amount}: {e}"));
        csv_rows += 1;
    }
    assert_eq!((csv_rows, csv_sum), (count, total));

    let json_path = dir.path().join("export.json");
    let json_arg = json_path.display().to_string();
    let mut export: Vec<&str> = vec!["export", "--format", "json", "--output", &json_arg];
    export.extend(filters);
    let (status, _) = kontor(&dir, &export);
    assert_eq!(status, 0);
    let exported: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let exported_ids: Vec<i64> =
        exported.as_array().unwrap_or(&Vec::new()).iter().map(|r| r["id"].as_i64().unwrap_or_default()).collect();
    assert_eq!(exported_ids, ids, "the export lists the same rows in the same order as the pages");
}

#[test]
fn bad_filters_and_a_search_with_syntax_are_handled() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let (status, _) = kontor(&dir, &["dev", "seed", "--transactions", "300", "--until", "2026-11-30"]);
    assert_eq!(status, 0);
    for bad in [["--from", "31.12.2025"], ["--min", "zehn"], ["--after", "page-2"]] {
        let (status, lines) = kontor(&dir, &["transactions", bad[0], bad[1]]);
        assert_eq!(status, 2, "{bad:?}");
        assert_eq!(lines.last().map(|l| l["code"].clone()), Some(Value::from("InvalidInput")), "{bad:?}");
    }
    for text in ["\"", "AND (", "rewe\" OR \"x"] {
        let (status, lines) = kontor(&dir, &["transactions", "--search", text]);
        assert_eq!(status, 0, "{text}: {lines:?}");
        result(&lines, "transactions");
    }
    let (status, lines) = kontor(&dir, &["export", "--format", "csv"]);
    assert_eq!(status, 2, "--json needs --output: {lines:?}");
}
