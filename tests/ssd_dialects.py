"""Write the demo council as a council's SSD export from SystemC, Mosaic or Eclipse would look: each
CMS's headers and column order (SSD v1.4.5 DDL), descriptions instead of codes, outcomes as JSON text
(sometimes invalid) or lists of step descriptions, the literal NULL, 1900-01-01 for "no date",
placeholders, UTF-8 with BOM, CRLF, dd/mm/yyyy hh:mm, and none of kpi's extension columns.

A test helper, not part of the package: it turns canonical tables into a dialect; profiles/*.yaml turn
the dialect back, and the tests check that nothing is lost on the way.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

CMS = ("systemc", "mosaic", "eclipse")

# The column order of each table as the CMS's extract creates it (data-to-insight/ssd-data-model:
# SystemC's v1.4.5 DDL, Mosaic's ##ssd_* tables, Eclipse's Postgres tables).
_SYSTEMC = {
    "ssd_person": "pers_legacy_id,pers_person_id,pers_upn,pers_forename,pers_surname,pers_sex,pers_gender,pers_ethnicity,pers_dob,pers_single_unique_id,pers_upn_unknown,pers_send_flag,pers_expected_dob,pers_death_date,pers_is_mother,pers_nationality",
    "ssd_contacts": "cont_contact_id,cont_person_id,cont_contact_date,cont_contact_source_code,cont_contact_source_desc,cont_contact_outcome_json",
    "ssd_early_help_episodes": "earl_episode_id,earl_person_id,earl_episode_start_date,earl_episode_end_date,earl_episode_reason,earl_episode_end_reason,earl_episode_organisation,earl_episode_worker_id",
    "ssd_cin_episodes": "cine_referral_id,cine_person_id,cine_referral_date,cine_cin_primary_need_code,cine_referral_source_code,cine_referral_source_desc,cine_referral_outcome_json,cine_referral_nfa,cine_close_reason,cine_close_date,cine_referral_team,cine_referral_worker_id",
    "ssd_cin_assessments": "cina_assessment_id,cina_person_id,cina_referral_id,cina_assessment_start_date,cina_assessment_child_seen,cina_assessment_auth_date,cina_assessment_outcome_json,cina_assessment_outcome_nfa,cina_assessment_team,cina_assessment_worker_id",
    "ssd_s47_enquiry": "s47e_s47_enquiry_id,s47e_referral_id,s47e_person_id,s47e_s47_start_date,s47e_s47_end_date,s47e_s47_nfa,s47e_s47_outcome_json,s47e_s47_completed_by_team,s47e_s47_completed_by_worker_id",
    "ssd_initial_cp_conference": "icpc_icpc_id,icpc_icpc_meeting_id,icpc_s47_enquiry_id,icpc_person_id,icpc_cp_plan_id,icpc_referral_id,icpc_icpc_transfer_in,icpc_icpc_target_date,icpc_icpc_date,icpc_icpc_outcome_cp_flag,icpc_icpc_outcome_json,icpc_icpc_team,icpc_icpc_worker_id",
    "ssd_cp_plans": "cppl_cp_plan_id,cppl_referral_id,cppl_icpc_id,cppl_person_id,cppl_cp_plan_start_date,cppl_cp_plan_end_date,cppl_cp_plan_ola,cppl_cp_plan_initial_category,cppl_cp_plan_latest_category",
    "ssd_cp_reviews": "cppr_cp_review_id,cppr_person_id,cppr_cp_plan_id,cppr_cp_review_due,cppr_cp_review_date,cppr_cp_review_meeting_id,cppr_cp_review_outcome_continue_cp,cppr_cp_review_quorate,cppr_cp_review_participation",
    "ssd_cp_visits": "cppv_cp_visit_id,cppv_person_id,cppv_cp_plan_id,cppv_cp_visit_date,cppv_cp_visit_seen,cppv_cp_visit_seen_alone,cppv_cp_visit_bedroom",
    "ssd_cla_episodes": "clae_cla_episode_id,clae_person_id,clae_cla_placement_id,clae_cla_episode_start_date,clae_cla_episode_start_reason,clae_cla_primary_need_code,clae_cla_episode_ceased_date,clae_cla_episode_ceased_reason,clae_cla_id,clae_referral_id,clae_cla_last_iro_contact_date,clae_entered_care_date",
    "ssd_cla_placement": "clap_cla_placement_id,clap_cla_id,clap_person_id,clap_cla_placement_start_date,clap_cla_placement_type,clap_cla_placement_urn,clap_cla_placement_distance,clap_cla_placement_provider,clap_cla_placement_postcode,clap_cla_placement_end_date,clap_cla_placement_change_reason",
    "ssd_legal_status": "lega_legal_status_id,lega_person_id,lega_legal_status,lega_legal_status_start_date,lega_legal_status_end_date",
    "ssd_cla_reviews": "clar_cla_review_id,clar_cla_id,clar_cla_person_id,clar_cla_review_due_date,clar_cla_review_date,clar_cla_review_cancelled,clar_cla_review_participation",
    "ssd_cla_visits": "clav_cla_visit_id,clav_cla_id,clav_person_id,clav_cla_visit_date,clav_cla_visit_seen,clav_cla_visit_seen_alone",
    "ssd_cla_health": "clah_health_check_id,clah_person_id,clah_health_check_type,clah_health_check_date,clah_health_check_status",
    "ssd_missing": "miss_table_id,miss_person_id,miss_missing_episode_start_date,miss_missing_episode_type,miss_missing_episode_end_date,miss_missing_rhi_offered,miss_missing_rhi_accepted",
    "ssd_care_leavers": "clea_table_id,clea_person_id,clea_care_leaver_eligibility,clea_care_leaver_in_touch,clea_care_leaver_latest_contact,clea_care_leaver_accommodation,clea_care_leaver_accom_suitable,clea_care_leaver_activity,clea_pathway_plan_review_date,clea_care_leaver_personal_advisor,clea_care_leaver_allocated_team,clea_care_leaver_worker_id",
    "ssd_involvements": "invo_involvements_id,invo_professional_id,invo_professional_role_id,invo_professional_team,invo_person_id,invo_involvement_start_date,invo_involvement_end_date,invo_worker_change_reason,invo_referral_id",
    "ssd_professionals": "prof_professional_id,prof_staff_id,prof_professional_name,prof_social_worker_registration_no,prof_agency_worker_flag,prof_professional_job_title,prof_professional_caseload,prof_professional_department,prof_full_time_equivalency",
}
_MOSAIC = _SYSTEMC | {
    "ssd_person": "pers_person_id,pers_legacy_id,pers_forename,pers_surname,pers_sex,pers_gender,pers_ethnicity,pers_dob,pers_single_unique_id,pers_upn,pers_upn_unknown,pers_send_flag,pers_expected_dob,pers_death_date,pers_is_mother,pers_nationality",
    "ssd_contacts": "cont_contact_id,cont_person_id,cont_contact_date,cont_contact_source_desc,cont_contact_outcome_json",
    "ssd_s47_enquiry": "s47e_s47_enquiry_id,s47e_referral_id,s47e_person_id,s47e_s47_start_date,s47e_s47_end_date,s47e_s47_nfa,s47e_s47_outcome_json,s47e_s47_completed_by_worker_id,s47e_s47_completed_by_team",
    "ssd_cp_plans": "cppl_cp_plan_id,cppl_referral_id,cppl_icpc_id,cppl_person_id,cppl_cp_plan_start_date,cppl_cp_plan_end_date,cppl_cp_plan_initial_category,cppl_cp_plan_latest_category",
    "ssd_cp_reviews": "cppr_cp_review_id,cppr_cp_plan_id,cppr_cp_review_due,cppr_cp_review_date,cppr_cp_review_outcome_continue_cp,cppr_cp_review_quorate,cppr_cp_review_participation",
    "ssd_cp_visits": "cppv_cp_visit_id,cppv_cp_plan_id,cppv_cp_visit_date,cppv_cp_visit_seen,cppv_cp_visit_seen_alone,cppv_cp_visit_bedroom",
    "ssd_cla_episodes": "clae_cla_episode_id,clae_person_id,clae_cla_episode_start_date,clae_cla_episode_start_reason,clae_cla_primary_need_code,clae_cla_id,clae_referral_id,clae_cla_last_iro_contact_date,clae_cla_episode_ceased_date,clae_cla_placement_id,clae_entered_care_date,clae_cla_episode_ceased_reason",
    "ssd_cla_placement": "clap_cla_placement_id,clap_cla_placement_start_date,clap_cla_placement_type,clap_cla_placement_urn,clap_cla_placement_distance,clap_cla_id,clap_cla_placement_provider,clap_cla_placement_postcode,clap_cla_placement_end_date,clap_cla_placement_change_reason",
    "ssd_cla_reviews": "clar_cla_review_id,clar_cla_review_due_date,clar_cla_review_date,clar_cla_review_participation,clar_cla_id,clar_cla_review_cancelled,clar_cla_person_id",
    "ssd_cla_visits": "clav_cla_id,clav_cla_visit_id,clav_cla_visit_date,clav_cla_visit_seen,clav_cla_visit_seen_alone,clav_person_id",
    "ssd_involvements": "invo_involvements_id,invo_professional_id,invo_professional_role_id,invo_professional_team,invo_referral_id,invo_involvement_start_date,invo_involvement_end_date,invo_worker_change_reason",
    "ssd_professionals": "prof_professional_id,prof_staff_id,prof_social_worker_registration_no,prof_agency_worker_flag,prof_professional_job_title,prof_professional_caseload,prof_professional_department,prof_full_time_equivalency",
}
_ECLIPSE = _SYSTEMC | {
    "ssd_cla_reviews": "clar_cla_review_id,clar_cla_id,clar_cla_review_due_date,clar_cla_review_date,clar_cla_review_cancelled,clar_cla_review_participation",
}
HEADERS = {"systemc": _SYSTEMC, "mosaic": _MOSAIC, "eclipse": _ECLIPSE}

# DfE descriptions written where the CMS writes descriptions (the profiles map them back).
LEGAL_STATUS = {
    "C1": "Interim care order", "C2": "Full care order", "E1": "Placement order granted",
    "L2": "Emergency protection order (EPO)",
    "V2": "Single period of accommodation under section 20 (Children Act 1989)",
    "V3": "Accommodated under an agreed series of short-term breaks, when individual episodes of care are recorded",
    "V4": "Accommodated under an agreed series of short-term breaks, when agreements are recorded (NOT individual episodes of care)",
}
HEALTH = {"systemc": {"IHA": "Initial Health Assessment", "HEALTH": "Health Check", "DENTAL": "Dental Check"},
          "mosaic": {"IHA": "Initial Health Assessment", "HEALTH": "Health Assessment", "DENTAL": "Dental Check"},
          "eclipse": {"IHA": "Initial health assessment (IHA)", "HEALTH": "Health check", "DENTAL": "Dental Check"}}
MISSING = {"systemc": {"M": "Missing", "A": "Away"}, "eclipse": {"M": "Missing from placement", "A": "Absent"}}
SUITABLE = {"1": "Suitable", "2": "Unsuitable"}
ACTIVITY = {
    "F1": "Full time in higher education", "P1": "Part time in higher education",
    "F2": "Full time in education other than higher education", "P2": "Part time in education other than higher education",
    "F4": "Full time in training", "P4": "Part time in training", "F5": "Full time in employment", "P5": "Part time in employment",
    "G4": "Not in education, training or employment, owing to illness or disability",
    "G5": "Not in education, training or employment, owing to other reasons",
    "G6": "Not in education, training or employment, owing to pregnancy or parenting",
}
_REFERRAL_KEYS = ("CLA_REQUEST_FLAG", "NON_AGENCY_ADOPTION_FLAG", "PRIVATE_FOSTERING_FLAG", "CP_TRANSFER_IN_FLAG",
                  "CP_CONFERENCE_FLAG", "CARE_LEAVER_FLAG", "OTHER_OUTCOMES_EXIST_FLAG")


def write(tables: dict[str, pl.DataFrame], cms: str, out: Path) -> Path:
    """Write `tables` (the demo council, canonical) as `cms`'s SSD export into `out`; returns `out`."""
    out.mkdir(parents=True, exist_ok=True)
    tables = {name: frame.with_row_index("_n") for name, frame in tables.items()}
    links = _links(tables)
    for name, frame in tables.items():
        if name.startswith("ref_"):
            frame.drop("_n").write_csv(out / f"{name}.csv")  # kpi's own reference tables
            continue
        if name not in HEADERS[cms]:
            continue  # kpi's extension tables: no SSD source
        frame = _recode(name, _text(frame), cms, links)
        header = HEADERS[cms][name].split(",")
        frame = frame.select([pl.col(c) if c in frame.columns else pl.lit(None, pl.String).alias(c) for c in header])
        frame.write_csv(out / f"{name}.csv", null_value="NULL", include_bom=True, line_terminator="\r\n")
    return out


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as SQL Server's client writes it: dates dd/mm/yyyy hh:mm, flags Y/N."""
    columns = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.Date:
            column = column.dt.strftime("%d/%m/%Y 00:00")
        elif dtype == pl.Datetime:
            column = column.dt.strftime("%d/%m/%Y %H:%M")
        elif dtype == pl.Boolean:
            column = pl.when(column).then(pl.lit("Y")).when(~column).then(pl.lit("N")).otherwise(None)
        elif name != "_n":
            column = column.cast(pl.String)
        columns.append(column.alias(name))
    return frame.select(columns)


def _links(tables: dict[str, pl.DataFrame]) -> dict:
    """Each child's first referral (the only link from Mosaic's involvements to the child), and the
    professionals who are not qualified social workers."""
    referrals = tables["ssd_cin_episodes"].sort("cine_referral_date").group_by("cine_person_id", maintain_order=True).first()
    staff = tables["ssd_professionals"]
    return {"referral_of": dict(zip(referrals["cine_person_id"], referrals["cine_referral_id"])),
            "unqualified": staff.filter(~pl.col("prof_is_qualified_sw"))["prof_professional_id"].to_list(),
            "qualified": staff.filter(pl.col("prof_is_qualified_sw"))["prof_professional_id"][0]}


def _described(column: str, codes: dict[str, str], styles: bool = True) -> pl.Expr:
    """Codes replaced by descriptions; with `styles`, every third as `CODE - description` and every
    third in capitals (a map must not care)."""
    described = pl.col(column).replace_strict(codes, default=pl.col(column))
    if not styles:
        return described.alias(column)
    n = pl.col("_n") % 3
    return (pl.when(pl.col(column).is_null()).then(None)
            .when(n == 0).then(pl.col(column) + pl.lit(" - ") + described)
            .when(n == 1).then(described.str.to_uppercase())
            .otherwise(described)).alias(column)


def _recode(name: str, frame: pl.DataFrame, cms: str, links: dict) -> pl.DataFrame:
    if name == "ssd_legal_status" and cms == "systemc":
        frame = frame.with_columns(_described("lega_legal_status", LEGAL_STATUS))
    elif name == "ssd_cla_health":
        frame = frame.with_columns(_described("clah_health_check_type", HEALTH[cms], styles=False))
        if cms == "mosaic":  # Mosaic's builder writes no status
            frame = frame.with_columns(pl.lit(None, pl.String).alias("clah_health_check_status"))
    elif name == "ssd_missing" and cms in MISSING:
        frame = frame.with_columns(_described("miss_missing_episode_type", MISSING[cms], styles=False))
    elif name == "ssd_care_leavers":
        if cms == "systemc":
            frame = frame.with_columns(_described("clea_care_leaver_accom_suitable", SUITABLE),
                                       _described("clea_care_leaver_activity", ACTIVITY))
        frame = frame.with_columns(pl.lit("01/01/1900 00:00").alias("clea_pathway_plan_review_date"))
    elif name == "ssd_cin_assessments" and cms == "systemc":
        # no FormEndDate: SystemC writes 1900-01-01
        frame = frame.with_columns(pl.col("cina_assessment_auth_date").fill_null("01/01/1900 00:00"))
    elif name == "ssd_early_help_episodes":
        frame = frame.with_columns(pl.lit("SSD_PH").alias("earl_episode_worker_id"))
    elif name == "ssd_cp_reviews":
        frame = frame.with_columns(pl.lit("PLACEHOLDER_DATA").alias("cppr_cp_review_participation"))
    elif name == "ssd_cla_reviews" and cms != "eclipse":
        frame = frame.rename({"clar_person_id": "clar_cla_person_id"})
    elif name == "ssd_cin_episodes":
        frame = frame.with_columns(_referral_outcome(frame, cms).alias("cine_referral_outcome_json"))
    elif name == "ssd_contacts":
        frame = frame.with_columns(_contact_outcome(frame, cms).alias("cont_contact_outcome_json"))
    elif name == "ssd_involvements":
        if cms == "systemc":  # SystemC's involvement type codes: CW the allocated case worker
            frame = frame.with_columns(pl.col("invo_professional_role_id").replace_strict({"SW": "CW", "PA": "16PLUS"}))
            # a (qualified) IRO beside each unqualified allocation: not an allocation to a social worker
            iro = frame.filter(pl.col("invo_professional_id").is_in(links["unqualified"]) & (pl.col("invo_professional_role_id") == "CW")).with_columns(
                (pl.col("invo_involvements_id") + "-IRO").alias("invo_involvements_id"), pl.lit("IRO").alias("invo_professional_role_id"),
                pl.lit(links["qualified"]).alias("invo_professional_id"))
            frame = pl.concat([frame, iro])
        if cms == "mosaic":
            frame = frame.with_columns(pl.col("invo_person_id").replace_strict(links["referral_of"], default=None).alias("invo_referral_id"))
    elif name == "ssd_professionals" and cms == "mosaic":
        frame = frame.with_columns(pl.lit(None, pl.String).alias("prof_social_worker_registration_no"))
    return frame


def _referral_outcome(frame: pl.DataFrame, cms: str) -> pl.Series:
    rows = zip(frame["_n"], frame["cine_outcome_assessment"], frame["cine_outcome_strategy"])
    return pl.Series([_referral_json(n, a, s, cms) for n, a, s in rows], dtype=pl.String)


def _referral_json(n: int, assessment: str | None, strategy: str | None, cms: str) -> str | None:
    if cms == "mosaic":
        steps = [step for flag, step in ((assessment, "Child and Family Assessment"), (strategy, "Strategy Discussion")) if flag == "Y"]
        return ", ".join(steps) or "No Further Action"
    if cms == "eclipse":
        keys = {"OUTCOME_SINGLE_ASSESSMENT_FLAG": assessment or "N", "OUTCOME_STRATEGY_DISCUSSION_FLAG": strategy or "N"}
        keys |= {f"OUTCOME_{k}": "N" for k in _REFERRAL_KEYS[:-1]} | {"OTHER_OUTCOMES_EXIST_FLAG": "N"}
        return json.dumps(keys).replace('":', '" :')
    # SystemC builds the text by concatenation: comments unescaped, the whole cut at 4,000 characters
    keys = {"SINGLE_ASSESSMENT_FLAG": assessment or "", "STRATEGY_DISCUSSION_FLAG": strategy or ""} | dict.fromkeys(_REFERRAL_KEYS, "N")
    text = json.dumps(keys)[:-1] + ', "NUMBER_OF_OUTCOMES": 1'
    if n % 7 == 0:
        return text + ', "COMMENTS": "mum said "not today",\nsee notes"}'
    if n % 11 == 0:
        return (text + ', "COMMENTS": "' + "long note " * 500)[:4000]
    return text + ', "COMMENTS": ""}'


def _contact_outcome(frame: pl.DataFrame, cms: str) -> pl.Series:
    flags = frame["cont_outcome_new_referral"].to_list()
    if cms == "eclipse":
        return pl.Series([None] * len(flags), dtype=pl.String)
    if cms == "mosaic":
        return pl.Series(["Referral" if f == "Y" else "Advice and Information" for f in flags], dtype=pl.String)
    return pl.Series([json.dumps({"NEW_REFERRAL_FLAG": f or "", "NFA_FLAG": "N", "COMMENTS": ""}) for f in flags], dtype=pl.String)
