//! `pvc-shrunk`: a claim that shrinks is an error, including `Gi` to the smaller `G`; equal
//! sizes in other units are not, and growth is `pvc-resized`.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, findings, places};

#[test]
fn shrinking_claims_are_errors_even_from_gi_to_g() {
    // postgres 50Gi -> 20Gi; minio 100Gi -> 100G (1e11 bytes, less than 100Gi).
    let json = check_json("pvc-shrunk", &[], 1);
    assert_eq!(
        places(&json),
        [
            ("pvc-shrunk", "apps/minio/pvc.yaml", 14, 16),
            ("pvc-shrunk", "apps/postgres/pvc.yaml", 14, 16),
        ]
    );
    let minio = findings(&json)[0]["message"].as_str().unwrap();
    assert!(
        minio.contains("storage/minio-data shrinks from 100Gi to 100G"),
        "{minio}"
    );
    assert!(minio.contains("refuses"), "{minio}");
    assert_eq!(json["summary"]["errors"], 2);
    insta::assert_json_snapshot!("pvc-shrunk", json["findings"]);
}

#[test]
fn an_equal_size_in_other_units_is_not_a_shrink_and_growth_is_only_resized() {
    // postgres 1Gi -> 1024Mi (equal); minio 100Gi -> 150Gi.
    let json = check_json("pvc-shrunk-near-miss", &[], 0);
    assert_eq!(
        places(&json),
        [("pvc-resized", "apps/minio/pvc.yaml", 14, 16)]
    );
}
