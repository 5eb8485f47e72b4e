-- Care leavers' status over time (CSC 286, 294). Views only; indicators join `period`.

-- One row per care-leaver status row (ssd_care_leavers holds one row per change), valid from its
-- effective date (clea_care_leaver_latest_contact) until the child's next row (valid_to, exclusive;
-- NULL for the latest). The status on day d is the latest row on or before d:
-- is_open_at(valid_from, valid_to, d). Of two rows on one day the one with the higher id holds.
-- With the child's date of birth and death.
CREATE OR REPLACE VIEW care_leaver_status AS
SELECT c.*,
       c.clea_care_leaver_latest_contact AS valid_from,
       lead(c.clea_care_leaver_latest_contact)
           OVER (PARTITION BY c.clea_person_id
                 ORDER BY c.clea_care_leaver_latest_contact, c.clea_table_id) AS valid_to,
       pe.pers_dob,
       pe.pers_death_date
FROM ssd_care_leavers c
LEFT JOIN ssd_person pe ON pe.pers_person_id = c.clea_person_id
WHERE c.clea_care_leaver_latest_contact IS NOT NULL;
