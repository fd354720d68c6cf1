//! The demo office: one user per role and a few items in different steps, so a newcomer
//! can click through the whole procedure. Seeded only into an empty database.

use warta_api::{
    ActionRequest, ItemContent, NewUser, Role, SaveItem, SopRoleAssignment, SopRolesInput,
};

use crate::office::Office;

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "warta-demo";

const USERS: &[(&str, &str, &[Role], &str)] = &[
    ("admin", "Admin Diskominfo", &[Role::Admin], "Sekretariat"),
    ("reporter", "Rina Reporter", &[Role::Reporter], "Bidang IKP"),
    ("editor", "Eko Editor", &[Role::Editor], "Tim IT"),
    (
        "official",
        "Ibu Kepala Dinas",
        &[Role::Official],
        "Pimpinan",
    ),
    ("publisher", "Putu Webmaster", &[Role::Publisher], "Tim IT"),
];

/// The people of the incident SOPs: (username, display name, unit, SOP, role). Each also holds
/// the office's reporter role (every account holds one), so they can send material too.
const SOP_USERS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "pemeriksa",
        "Agus Pemeriksa TI",
        "Bidang TIK",
        "sop-d",
        "examiner",
    ),
    (
        "teknisi",
        "Tono Tim Teknis",
        "Bidang TIK",
        "sop-d",
        "tech_team",
    ),
    (
        "kasi",
        "Siti Kasi Keamanan Jaringan",
        "Bidang TIK",
        "sop-d",
        "supervisor",
    ),
    (
        "kabid",
        "Bambang Kabid TIK",
        "Bidang TIK",
        "sop-d",
        "administrator",
    ),
    (
        "aptika",
        "Dewi Bidang Aptika",
        "Bidang Aptika",
        "sop-b",
        "division",
    ),
    (
        "kabid.aptika",
        "Hendra Kabid Aptika",
        "Bidang Aptika",
        "sop-b",
        "head",
    ),
    (
        "webteam",
        "Wawan Tim Pengelola Website",
        "Bidang Aptika",
        "sop-b",
        "web_team",
    ),
];

fn content(title: &str, body: &str) -> ItemContent {
    ItemContent {
        title: title.into(),
        summary: format!("Ringkasan: {title}"),
        body: body.into(),
        category: "Berita".into(),
        tags: vec!["kaltim".into(), "pemerintahan".into()],
        unit: "Bidang IKP".into(),
    }
}

pub(crate) fn seed(office: &Office) -> anyhow::Result<()> {
    if !office.setup_status()?.needs_admin {
        return Ok(());
    }
    // Every demo account has the same public password: one hash serves them all.
    let hash = crate::auth::hash_password(DEMO_PASSWORD)?;
    for (username, name, roles, unit) in USERS {
        office.add_user_hashed(
            None,
            NewUser {
                username: (*username).into(),
                display_name: (*name).into(),
                password: DEMO_PASSWORD.into(),
                roles: roles.to_vec(),
                unit: (*unit).into(),
            },
            &hash,
        )?;
    }
    // One user per role of SOP-D and SOP-B, so a newcomer can walk an incident.
    let admin = office.user_caller("admin")?;
    let mut holders: std::collections::BTreeMap<(&str, &str), Vec<i64>> = Default::default();
    for (username, name, unit, sop, role) in SOP_USERS {
        let user = office.add_user_hashed(
            None,
            NewUser {
                username: (*username).into(),
                display_name: (*name).into(),
                password: DEMO_PASSWORD.into(),
                roles: vec![Role::Reporter],
                unit: (*unit).into(),
            },
            &hash,
        )?;
        holders.entry((sop, role)).or_default().push(user.id);
    }
    for sop in ["sop-d", "sop-b"] {
        let roles = holders
            .iter()
            .filter(|((s, _), _)| *s == sop)
            .map(|((_, role), ids)| SopRoleAssignment {
                role: (*role).into(),
                user_ids: ids.clone(),
            })
            .collect();
        office.set_sop_roles(&admin, sop, SopRolesInput { roles })?;
    }
    let reporter = office.user_caller("reporter")?;
    let editor = office.user_caller("editor")?;
    let official = office.user_caller("official")?;
    let publisher = office.user_caller("publisher")?;
    let go = |who: &crate::Caller, id: i64, action: &str| {
        office.act(who, id, action, ActionRequest::default())
    };

    // 1. A draft still being collected.
    office.create_item(
        &reporter,
        content(
            "Rapat koordinasi kesiapsiagaan banjir",
            "Tim sedang mengumpulkan foto dan notulen rapat.\n\n- Lokasi: Samarinda\n- Peserta: BPBD, Dinas PU",
        ),
    )?;
    // 2. Handed over to the IT team.
    let b = office.create_item(
        &reporter,
        content(
            "Peluncuran layanan internet desa",
            "# Internet desa\n\nSebanyak **25 desa** kini terhubung ke jaringan internet.",
        ),
    )?;
    go(&reporter, b.id, "submit")?;
    // 3. Being edited.
    let c = office.create_item(
        &reporter,
        content(
            "Pelatihan keamanan siber untuk ASN",
            "Pelatihan diikuti 120 aparatur sipil negara.",
        ),
    )?;
    go(&reporter, c.id, "submit")?;
    office.claim(&editor, c.id)?;
    // 4. Waiting for the official.
    let d = office.create_item(
        &reporter,
        content(
            "Festival budaya Mahakam 2026",
            "Festival menampilkan **tari tradisional** dan pameran UMKM.",
        ),
    )?;
    go(&reporter, d.id, "submit")?;
    let d = office.claim(&editor, d.id)?;
    let mut edited = d.content.clone();
    edited
        .body
        .push_str("\n\nAcara berlangsung tiga hari di tepi Sungai Mahakam.");
    office.save_item(
        &editor,
        d.id,
        SaveItem {
            version: d.version,
            content: edited,
        },
    )?;
    go(&editor, d.id, "send_to_official")?;
    // 5. Approved, waiting for the webmaster; 6. published.
    for (title, publish) in [
        ("Jadwal pelayanan publik selama libur akhir tahun", false),
        ("Pemprov raih penghargaan keterbukaan informasi", true),
    ] {
        let e = office.create_item(
            &reporter,
            content(title, "Informasi lengkap dapat dilihat pada lampiran."),
        )?;
        go(&reporter, e.id, "submit")?;
        office.claim(&editor, e.id)?;
        go(&editor, e.id, "send_to_official")?;
        go(&official, e.id, "approve")?;
        if publish {
            go(&publisher, e.id, "publish")?;
        }
    }
    Ok(())
}
