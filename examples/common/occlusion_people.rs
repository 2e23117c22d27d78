//! The people and photos of the occluded-face measurements (`occlusion` and `masked_tries`): the ten people
//! with more than one photo, each person's first photo enrols and the others are probes.

const PEOPLE: [&str; 8] = ["amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"];

/// (person, photo paths), the enrolment photo first.
pub fn people() -> Vec<(String, Vec<String>)> {
    let dir = std::env::var("LOCALFACE_FACES").unwrap_or_else(|_| "../shared/data/faces".into());
    let mut out: Vec<(String, Vec<String>)> =
        PEOPLE.iter().map(|p| (p.to_string(), (1..=5).map(|i| format!("{dir}/{p}/{p}{i}.png")).collect())).collect();
    out.push(("emotions-a".into(), (1..=8).map(|i| format!("{dir}/emotions-a/a{i}.jpg")).collect()));
    out.push(("emotions-b".into(), (1..=7).map(|i| format!("{dir}/emotions-b/b{i}.jpg")).collect()));
    out
}
