-- The front door: contacts and referrals (CSC 004-034). Views only;
-- the last ones read `period` (one row per month and its window).

-- One row per communication (a call, email or form that may concern several children: one
-- ssd_contacts row per child, so `children` is its number of rows). A contact without a
-- communication id is its own communication. A communication belongs to the date of its first contact.
CREATE OR REPLACE VIEW communications AS
SELECT
    coalesce(c.cont_communication_id, c.cont_contact_id) AS communication_id,
    min(c.cont_contact_date)                 AS communication_datetime,
    CAST(min(c.cont_contact_date) AS DATE)   AS communication_date,
    count(*)                                 AS children
FROM ssd_contacts c
GROUP BY 1;

-- One row per referral (ssd_cin_episodes), with the dates and durations the indicators count by.
--   referral_date, completed_date: the dates on which the timestamps fall (23:30 on the 30th is the 30th)
--   completion_hours: hours from referral to completion (null while not completed)
--   previous_close_date / previous_referral_id: the most recent close date among the same child's
--     other referrals that had closed on or before this referral's date
--   is_re_referral: that close date lies within the 12 months before this referral's date, inclusive
--     (referral on 2017-09-15: closed 2016-09-15 counts, 2016-09-14 does not). This is the seed's local
--     rule; the DfE's published measure looks back from this referral to the previous *referral date*.
CREATE OR REPLACE VIEW referrals AS
WITH earlier_closures AS (
    SELECT r.cine_referral_id,
           max(e.cine_close_date)                      AS previous_close_date,
           arg_max(e.cine_referral_id, e.cine_close_date) AS previous_referral_id
    FROM ssd_cin_episodes r
    JOIN ssd_cin_episodes e
      ON e.cine_person_id = r.cine_person_id
     AND e.cine_referral_id <> r.cine_referral_id
     AND e.cine_close_date <= CAST(r.cine_referral_date AS DATE)
    GROUP BY r.cine_referral_id
)
SELECT
    r.*,
    CAST(r.cine_referral_date AS DATE)                 AS referral_date,
    CAST(r.cine_referral_completed_datetime AS DATE)   AS completed_date,
    (epoch(r.cine_referral_completed_datetime) - epoch(r.cine_referral_date)) / 3600.0 AS completion_hours,
    c.previous_referral_id,
    c.previous_close_date,
    coalesce(c.previous_close_date >= CAST(CAST(r.cine_referral_date AS DATE) - INTERVAL 12 MONTH AS DATE), false)
                                                       AS is_re_referral
FROM ssd_cin_episodes r
LEFT JOIN earlier_closures c USING (cine_referral_id);

-- Referrals whose screening was completed (the referral decision made): CSC 015, 018, 022, 026
-- count these by the date of completion.
CREATE OR REPLACE VIEW completed_referrals AS
SELECT * FROM referrals WHERE cine_referral_completed_datetime IS NOT NULL;

-- Views over `period`: rows per month, for the windows of the indicators that read them; a row
-- belongs to each `period` row whose window holds the date that places it.

-- Child-contact rows (ssd_contacts: one per child per communication) whose timestamp falls in the
-- window, on the day it falls (CSC 004i).
CREATE OR REPLACE VIEW contacts_in_window AS
SELECT p.month, c.cont_contact_id, c.cont_person_id, c.cont_communication_id, c.cont_contact_date
FROM ssd_contacts c
JOIN period p ON CAST(c.cont_contact_date AS DATE) BETWEEN p.start_date AND p.end_date;

-- One row per child contacted in the window: the number of their contacts in it and the first
-- (CSC 004k, 004s).
CREATE OR REPLACE VIEW children_contacted_in_window AS
SELECT month, cont_person_id, count(*) AS contacts, min(cont_contact_date) AS first_contact_date
FROM contacts_in_window
GROUP BY month, cont_person_id;

-- Communications received in the window, by the day of their first contact (CSC 004, 011).
CREATE OR REPLACE VIEW communications_in_window AS
SELECT p.month, c.communication_id, c.communication_datetime, c.children
FROM communications c
JOIN period p ON c.communication_date BETWEEN p.start_date AND p.end_date;

-- Referrals started in the window, by the day the referral timestamp falls on (CSC 011-014, 032, 034).
CREATE OR REPLACE VIEW referrals_in_window AS
SELECT p.month, r.cine_referral_id, r.cine_person_id, r.cine_referral_date,
       r.previous_referral_id, r.previous_close_date, r.is_re_referral
FROM referrals r
JOIN period p ON r.referral_date BETWEEN p.start_date AND p.end_date;

-- Referrals whose screening was completed in the window, by the day of completion (CSC 015-026).
CREATE OR REPLACE VIEW completed_referrals_in_window AS
SELECT p.month, r.cine_referral_id, r.cine_person_id, r.cine_referral_date,
       r.cine_referral_completed_datetime, r.completion_hours,
       r.cine_outcome_assessment, r.cine_outcome_strategy
FROM completed_referrals r
JOIN period p ON r.completed_date BETWEEN p.start_date AND p.end_date;
