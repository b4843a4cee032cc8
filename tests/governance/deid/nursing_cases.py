"""Hand-written ICU nursing-note lines with their PHI marked, in the style of MIMIC-II era notes.

Each line is written as a nurse would write it (capitals, abbreviations, names without titles);
PHI is marked with square brackets (``[KWAME]``), which no line uses otherwise. ``DEV`` is the set
the rules were tuned on; ``HELD_OUT`` was written afterwards and only measured, to see whether the
rules generalise. ``NEGATIVE`` lines hold no PHI at all: clinical words, drugs, eponyms,
abbreviations, ranges and scores that must survive. The names mix census names with names no
census list holds and first names that are also words; nothing is drawn from the lexicon.
"""

from __future__ import annotations

import re

_MARK = re.compile(r"\[([^\[\]]+)\]")


def parse(line: str) -> tuple[str, list[tuple[int, int]]]:
    """The plain text of a marked line and its gold (start, end) spans."""
    text, spans, pos = "", [], 0
    for m in _MARK.finditer(line):
        text += line[pos : m.start()]
        spans.append((len(text), len(text) + len(m.group(1))))
        text += m.group(1)
        pos = m.end()
    return text + line[pos:], spans


DEV = [
    # (1) names in capitals without context: sentence-initial, after abbreviations and roles
    "[KWAME] ASKING FOR HER SON REPEATEDLY, EASILY REDIRECTED.",
    "[MARGARET] RESTING COMFORTABLY AT PRESENT, NO C/O PAIN.",
    "[ODESSA] TOLERATING TF AT GOAL, RESIDUALS MINIMAL.",
    "PT [OLUWASEUN] STATES SHE FEELS BETTER TODAY.",
    "PT IS A 67 YO MALE S/P FALL AT HOME, WIFE [ROSALIE] FOUND HIM ON FLOOR.",
    "W/ WIFE [TERESITA] AT BEDSIDE MOST OF EVENING.",
    "FAMILY ([DMITRI] AND [SVETLANA]) IN TO VISIT, UPDATED BY RN.",
    "SON [TADEUSZ] CALLED X2 FOR UPDATE.",
    "DAUGHTER [YOLANDA] IS HCP, WOULD LIKE CALL W/ ANY CHANGES.",
    "WIFE [AGNIESZKA] AND HUSBAND OF DTR IN THIS PM.",
    "HUSBAND [EAMON] SPENT NIGHT, VERY ANXIOUS.",
    "[KATHY] RN AWARE OF SBP 80S.",
    "[NGOC] RN FROM 7 NORTH TOOK REPORT.",
    "[BRENNAN] MD AWARE, NO NEW ORDERS.",
    "[PRZYBYLSKI] NP IN TO EVAL PT.",
    "[OLSZEWSKI] PA PLACED A-LINE AT 1400.",
    "CALLED [SIOBHAN] IN ADMITTING RE: BED ON FLOOR.",
    "SPOKE WITH [DR OKAFOR] RE: LOW UO.",
    "PAGED [WHITCOMBE] X2 RE: K 3.1, AWAITING CALL BACK.",
    "NOTIFIED [FITZGERALD] OF TEMP 101.5, CULTURES SENT.",
    "[MCCARTHY] AWARE OF ABG RESULTS.",
    "HO [ADEYEMI] AWARE.",
    "RESIDENT [TANISHA] IN TO SEE PT.",
    "NIGHT RN [MARYBETH] GIVEN REPORT.",
    "[DONOVAN] FAMILY IN TO VISIT, ASKING APPROPRIATE QUESTIONS.",
    "[XIMENA] (DTR) CALLED FROM WORK.",
    "Pt [Oyelaran] is a 72 yo F with hx of CHF.",
    "[Thuy] slept most of night, easily arousable.",
    "[Wojciech] c/o incisional pain, medicated with morphine.",
    "Son [Giuseppe] called, updated on plan of care.",
    "Spoke with [Lafleur] re: results, MD aware.",
    "[Kowalczyk] aware of low UO.",
    "MICU team ([Dr. Thibodeau]) notified.",
    # (2) first names that are also common words
    "WIFE [HOPE] IN AT 1900, UPDATED.",
    "[FRANK] [SULLIVAN] IS PT'S HCP.",
    "SON [BILL] CALLED AND WAS UPDATED BY RN.",
    "SPOKE WITH [GRACE] FROM CASE MANAGEMENT.",
    "DAUGHTER [JOY] AND SON [RUSTY] IN TO VISIT.",
    "[ROSE] [MAHONEY] (SISTER) CALLED FOR UPDATE.",
    "Wife [Faith] at bedside, tearful, support given.",
    "[Frank] [Delgado], pt's brother, called at 2100.",
    "Spoke with [Dawn] in admitting, no bed yet.",
    "[Sue] RN took report.",
    "RN [Joy] covering while primary RN at break.",
    "Per [Patience] in pharmacy, vanco level to be drawn before 4th dose.",
    "[MARK] [BELL] TO BE CALLED W/ ANY CHANGES.",
    "[Will] [Green] (son) aware of plan.",
    # (3) bare hospital names
    "PT TRANSFERRED FROM [CARITAS CARNEY] ON [3-12] FOR CATH.",
    "Pt was at [Mount Auburn] until [3/4], then home.",
    "Recently discharged from [St. Elizabeth's] after CABG.",
    "H/O CABG AT [BEVERLY HOSPITAL] IN 1998.",
    "PT FOLLOWED AT [LAHEY CLINIC] FOR AFIB.",
    "Records from [Faulkner Hospital] requested.",
    "WILL BE D/C'D TO [HEBREW REHAB] WHEN BED AVAILABLE.",
    "Pt is a 80 yo M from [Youville] rehab admitted with PNA.",
    "PT CAME FROM [WHITTIER] REHAB WITH STAGE II DECUB.",
    "Sent from [Newton-Wellesley] ED with GI bleed.",
    "TRANSFERRED TO [SPAULDING] AT 1500.",
    # (4) partial dates
    "ADMITTED [3-12] WITH SOB.",
    "CXR [3/12] SHOWED RLL INFILTRATE.",
    "EXTUBATED [4-2], REINTUBATED [4-3] FOR RESP DISTRESS.",
    "LAST BM [12-29].",
    "NPO SINCE MN FOR CATH ON [11/4].",
    "FOLEY CHANGED [9-15].",
    "HCT 24 ON [2/1], TRANSFUSED 2 U PRBC.",
    "PICC PLACED [10-7], TIP IN SVC.",
    "Pt intubated [1/19] at OSH for airway protection.",
    "Line d/c'd [6-21], tip sent for culture.",
    "FAMILY MEETING SET FOR [5/3] AT 1400.",
    "Vanco started [8-14], level [8-16] 22.",
    "PT WAS IN USOH UNTIL [7/22] WHEN SHE FELL.",
    # (5) other realistic PHI in notes
    "PT IS A [91] YO F ADMITTED FROM HOME.",
    "Daughter's cell [617-555-0199].",
    "WIFE CAN BE REACHED AT [(781) 555-0143].",
    "LIVES IN [BROCKTON] WITH WIFE AND SON.",
    "Pt lives alone in [Quincy], son lives nearby.",
    "FROM [HAVERHILL], RETIRED FIREFIGHTER.",
    "Beeper [4-3389].",
    "Pt's HCP is niece [Imelda] ([508-555-0172]).",
    "Report called to [Beth] on 7 North.",
    "Will d/w [Dr. Abernathy] in AM re: trach.",
    "Dr. [Szymanski] in to see pt, new orders noted.",
    "DR. [RICCI] AT BEDSIDE FOR LINE PLACEMENT.",
    "Pt's PCP, Dr. [Papadopoulos], called with history.",
    "[JOSEPHINE] [MURPHY] IN TO VISIT, UPSET ABOUT PLAN.",
    "SW [DEB] IN TO SEE FAMILY.",
    "RT [KERRY] AWARE, PT PLACED ON 50% FM.",
    "PLAN: D/C TO [MALDEN] FAMILY CARE WHEN STABLE.",
    # more of (1)-(5), and forms seen in older notes
    "[ADEYEMI]'S WIFE CALLED THIS AM, UPDATED.",
    "[Kwabena]'s daughter in to visit, brought pictures.",
    "[ANNUNZIATA] C/O NAUSEA, ZOFRAN 4MG IV GIVEN.",
    "[Bronislawa] denies pain, resting comfortably.",
    "PT S/P CABG X3 ON [2-14], DR [DEMOPOULOS] AWARE OF CT OUTPUT.",
    "SPOKE W/ [LORETTA] (DTR) RE: DNR STATUS.",
    "MET W/ SON [RAFFAELE] AND DAUGHTER [CONCETTA] AT 1500.",
    "FAMILY: WIFE [IRMGARD], SONS [HELMUT] AND [KLAUS].",
    "[JANINA] AND [STANISLAW] (CHILDREN) CALLED.",
    "CALLED HOME, SPOKE WITH [MILDRED] WHO WILL INFORM FAMILY.",
    "CASE DISCUSSED WITH [TRAN], CARDIOLOGY FELLOW.",
    "[Costa] NP in to eval, will change abx.",
    "Report given to [Colleen] on CCU.",
    "NOTIFIED [DR. YOUNG] OF BS 45, AMP D50 GIVEN.",
    "DR. [WHITE] PAGED RE: HYPOTENSION.",
    "DTR [GRACE] [HILL] IS HCP.",
    "[BUD] (PT'S SON) CALLED AT 2200.",
    "PT'S HUSBAND [ART] IN TO VISIT.",
    "PT WAS SEEN IN [BETH ISRAEL] ED LAST WEEK.",
    "TO [BRIGHAM] FOR EP STUDY [4/8].",
    "MEDFLIGHTED FROM [CAPE COD HOSPITAL].",
    "ADMITTED TO [MGH] IN [JANUARY] FOR CHF EXACERBATION.",
    "DOB [4/12/1931].",
    "Pt has appt w/ Dr. [Mahoney] on [5/14] at 1100.",
    "CT HEAD [11-3] NEG FOR BLEED.",
    "ECHO ([3-29]) EF 25%.",
    "TRACH PLACED ON [12/5], PEG ON [12/8].",
    "SINCE [3-4] PT HAS HAD 3 EPISODES OF AFIB.",
    "PT'S WIFE CAN BE REACHED AT HOME [(617) 555-0110] OR CELL [555-0132].",
    "PT LIVES W/ DTR IN [SOMERVILLE].",
    "HE IS FROM [DORCHESTER], WORKED AS A BUS DRIVER.",
]

NEGATIVE = [
    "NEURO: A&O X3, MAE, PERRL 3MM BRISK. FOLLOWS COMMANDS.",
    "CV: HR 80-90S NSR, NO ECTOPY. BP 110-130/60S.",
    "RESP: LS CLEAR UPPER, DIMINISHED BASES. 2L NC, SATS 95-98%.",
    "GI: ABD SOFT, +BS, NAD. TF AT GOAL 60CC/HR VIA OGT.",
    "GU: FOLEY DRAINING CYU 30-60CC/HR. LASIX 40MG IV GIVEN.",
    "H/O PARKINSON'S DISEASE AND HODGKIN LYMPHOMA.",
    "SWAN-GANZ CATHETER PLACED, PA PRESSURES 40/22.",
    "PT ON PRECEDEX GTT AT 0.4 MCG/KG/HR, RASS -1.",
    "STARTED ON KEPPRA 500MG BID, DILANTIN HELD.",
    "MAE, PERRL, NAD. BS X4 QUADS.",
    "K 3.2, REPLETED WITH 40 MEQ KCL. MG 1.8.",
    "UO 1-2 L NEG SINCE MN.",
    "MORPHINE 2-4MG IV Q2-3H PRN PAIN.",
    "PAIN 3/10, STRENGTH 5/5, 2/6 SEM.",
    "SBP 100-120, DOPA AT 5-10 MCG/KG/MIN.",
    "ABG 7.32/45/88, VENT AC 500 X 14, PEEP 5.",
    "WILL CONTINUE TO MONITOR CLOSELY.",
    "PT VERY ANXIOUS, ATIVAN 1MG GIVEN X1 WITH GOOD EFFECT.",
    "FAMILY IN TO VISIT, UPDATED BY RN AND MD.",
    "SON CALLED, UPDATED ON PLAN OF CARE.",
    "WIFE AT BEDSIDE, AWARE OF PLAN.",
    "DAUGHTER IS HCP.",
    "MD AWARE, NO NEW ORDERS.",
    "Neuro: alert, oriented x3, MAE, PERRL. C/o HA, given tylenol.",
    "Resp: CPAP 5/5, FiO2 40%, RSBI 45.",
    "Foley catheter draining clear yellow urine.",
    "Babinski negative bilaterally, no clonus.",
    "Pt on Levophed and Vasopressin, weaning as tolerated.",
    "Trendelenburg for line placement, tolerated well.",
    "HOB >30, OOB TO CHAIR WITH 2 ASSIST.",
    "PT IS A 67 YO MALE WITH HX OF CAD, HTN, DM.",
    "TURNED Q2H, SKIN INTACT, COCCYX REDDENED.",
    "GCS 3-4, NO RESPONSE TO NOXIOUS STIMULI.",
    "1/2 NS AT 100CC/HR, D5W AT KVO.",
    "WBC 14, TMAX 101.2, PAN CULTURED.",
    "HCT 27.8, PLT 88, INR 1.4.",
    "PT TOLERATED PROCEDURE WELL, VSS.",
    "RISS PER SS, FSBS 140-180.",
    "BREATH SOUNDS COARSE, SUCTIONED FOR THICK TAN SECRETIONS.",
    "PT WILL REMAIN NPO AFTER MN FOR ERCP.",
    "CONT TO MONITOR HR, BP, UO, LYTES.",
    "NIGHT SHIFT 7P-7A, 11-7 UNEVENTFUL.",
    "ON 2-4L NC, RR 18-24.",
    "LOPRESSOR 12.5MG PO BID, HELD FOR SBP <100.",
    "JACKSON-PRATT DRAIN WITH 30CC SEROSANG.",
    "SEEN BY RENAL, CVVH TO START TONIGHT.",
    "PT GRIMACING WITH TURNS, FENTANYL BOLUS GIVEN.",
    "MAGNESIUM 2GM IV, CALCIUM GLUCONATE 1GM IV.",
    "ALINE DAMPENED, FLUSHED, WAVEFORM IMPROVED.",
    "PT BECAME AGITATED, PULLING AT LINES, SOFT RESTRAINTS APPLIED.",
    "CODE STATUS: DNR/DNI PER FAMILY MEETING.",
    "NO BM, COLACE AND SENNA GIVEN.",
    "PLAN: CONT ABX, FOLLOW CULTURES, WEAN VENT AS TOL.",
    "SPOKE WITH CARDIOLOGY FELLOW RE: CATH RESULTS.",
    "PAGED HO RE: LOW UO, ORDERS RECEIVED.",
    "NOTIFIED MICU TEAM OF TEMP SPIKE.",
    "Pt pleasant and cooperative, appropriate.",
    "Frank blood noted in NGT, MD aware.",
    "Mark site with pen for reference.",
    "Grace period for consent discussed with team.",
    "S/P FALL, C-COLLAR ON PER ORTHO.",
    "W/ GOOD EFFECT, PT RESTING.",
    "PT AWARE OF PLAN, AGREES.",
    "PT C/O SOB, NEB GIVEN, SATS IMPROVED.",
    "ORTHO AWARE, XRAY TO BE DONE IN AM.",
    "CMED AWARE OF LOW UO.",
    "RENAL IN TO SEE PT, CVVH TO BE STARTED.",
    "PAGED HO RE: K 3.1.",
    "NOTIFIED NSURG OF CHANGE IN EXAM.",
    "CALLED BLOOD BANK RE: FFP.",
    "SPOKE WITH PHARMACY RE: VANCO DOSING.",
    "LEVOPHED WEANED TO OFF, PROPOFOL INCREASED FOR AGITATION.",
    "AMIO GTT AT 0.5 MG/MIN, DILT HELD.",
    "GIVEN 1-2 UNITS PRBC PER HCT.",
    "LOOSE STOOL X 2-3 THIS SHIFT.",
    "3-4 BEAT RUNS OF VT, LYTES SENT.",
    "1-2+ EDEMA BLE, LASIX 20 IV.",
    "ENZ PENDING, GLUC 140, TROP NEG.",
    "ROS NEG, LOS 4 DAYS.",
    "BIBASILAR CRACKLES, DIURESED WITH LASIX.",
    "FAMILY MTG TOMORROW AM.",
    "RN AWARE, MD AWARE.",
    "Pt c/o pain 7/10, medicated with dilaudid 0.5 mg IV.",
    "Seen by PT and OT, OOB to chair.",
    "Hodgkin's disease in remission, h/o Crohn's.",
    "Swan-Ganz numbers: CO 4.2, CI 2.1, SVR 1100.",
    "Heparin gtt per protocol, PTT 65.",
    "MAE WEAKLY, PERRLA, GAG INTACT.",
    "NPO EXCEPT MEDS, NGT TO LCS.",
    "CHANGED TO PSV 10/5, TOL WELL.",
    # aimed at the rules for names without titles: drugs, services and abbreviations in a name's place
    "NEURONTIN RESTARTED, PT TOLERATING PO MEDS.",
    "XOPENEX (RT) GIVEN Q4H, BS IMPROVED.",
    "CANCIDAS FROM PHARMACY AT 1600.",
    "HEPATOLOGY AWARE, PER NEPHROLOGY NO HD TODAY.",
    "PER PROTOCOL, LYTES REPLETED.",
    "PAGED NEUROSURG RE: CHANGE IN PUPILS.",
    "CALLED RADIOLOGY, CT TO BE DONE AT 1500.",
    "SW AWARE, WILL FOLLOW UP IN AM.",
    "SON AND DAUGHTER CALLED, BOTH UPDATED.",
    "PT'S WIFE STATES SHE WILL BE IN AT 1000.",
    "DAUGHTER (HCP) AWARE OF PLAN.",
    "FAMILY (WIFE AND 2 SONS) IN TO VISIT.",
    "NIGHT RN AWARE, CHARGE RN NOTIFIED.",
    "FLOAT RN TOOK REPORT.",
    "WILL CALL FAMILY IN AM WITH UPDATE.",
    "REPORT GIVEN TO ONCOMING RN.",
    "STARTED ON 1/2 NS AT 75CC/HR.",
    "HCT 1-2 PTS LOWER, RECHECK IN AM.",
    "TURNED Q2-3H, SKIN CARE DONE.",
    "AWAITING 2-3 MORE UNITS FROM BLOOD BANK.",
    "BM X2 SOFT BROWN GUAIAC NEG.",
    "ST. ID: AFEBRILE.",
    "Pt resting, Ambien 5 mg given at 2200.",
    "Kayexalate given, K rechecked.",
    "Procrit given per renal.",
    "Neuro checks q1h, Glasgow 14.",
    "Duoneb given, wheezes improved.",
    "Flolan weaned per protocol.",
    "PT DENIES SOB, C/O FATIGUE.",
    "MORPHINE REQUESTED FOR PAIN, 2MG IV GIVEN.",
    "GOOD RESPONSE TO LASIX, NET NEG 1L.",
    "HOPE TO EXTUBATE IN AM.",
    "WILL CONTINUE TO MONITOR, MAY NEED PRBC.",
    "MARK SITE, CHECK PULSES Q1H.",
    "GRACE PERIOD OVER, PT NOW NPO.",
    "ASA AND PLAVIX HELD FOR POSS PROCEDURE.",
]

# Whole notes, written after the rules were tuned on DEV, measured only.
HELD_OUT = [
    """NPN 7P-7A
NEURO: PT ALERT, ORIENTED X2, CONFUSED AT TIMES, REORIENTED EASILY. MAE. PERRL.
CV: HR 70-80S AFIB, SBP 100-120. K 3.4 REPLETED W/ 40 MEQ KCL PO.
RESP: LS COARSE, CLEARING W/ COUGH. 4L NC, SATS 94-97%.
GI/GU: ABD SOFT, +BS, NO BM. FOLEY DRAINING 40-80CC/HR CLEAR YELLOW URINE.
SOCIAL: WIFE [LUCIENNE] CALLED AT 2100, UPDATED. SON [MAURICE] TO VISIT IN AM.
[LUCIENNE] REQUESTS A CALL IF PT BECOMES MORE CONFUSED: [781-555-0166].
PLAN: CONT DIURESIS, CHECK LYTES IN AM, OOB TO CHAIR.""",
    """Nursing Progress Note 0700-1900
Pt is a [93] yo F admitted [4-17] from [Deaconess-Glover] with urosepsis.
Neuro: lethargic, arousable to voice, follows simple commands.
CV: SBP 90s on levophed 0.05, weaned to off at 1400. HR 90s ST.
ID: Tmax 100.8, on zosyn and vanco, cultures from [4/17] pending.
Social: Dtr [Philomena] at bedside all day, very involved. Son [Hyacinth] called from [Tucson].
[Philomena] asked to speak with attending; Dr. [Szczepanski] met with family at 1600.
Code: DNR/DNI per family meeting [4-18].""",
    """MICU NSG NOTE
[TEODORO] REMAINS INTUBATED, SEDATED ON PROPOFOL 30 MCG/KG/MIN.
RESP: AC 450 X 16, PEEP 8, FIO2 50%. ABG 7.36/44/82. SUCTIONED X3 FOR MOD AMT TAN SECRETIONS.
CV: NSR 80S, NO ECTOPY. BP STABLE.
GI: OGT TO LCS, TF ON HOLD FOR POSS EXTUBATION.
SOCIAL: PT'S NIECE [ROSALBA] IS HCP. SHE SPOKE W/ DR [IWASAKI] AND AGREES W/ PLAN.
[ROSALBA]'S HUSBAND ALSO CALLED, WILL VISIT THIS WEEKEND.""",
    """CCU Nursing Progress Note
S/P cath [11/2] with stent to LAD. Groin site D+I, no hematoma, pedal pulses dopplerable.
Pt c/o 3/10 chest pressure at 0300, EKG unchanged, nitro SL x1 with relief. [Okonkwo] (cardiology fellow) aware.
Pt anxious, [Bernadette] (wife) stayed overnight in family room.
Plan for d/c to [Lemuel Shattuck] rehab vs home with VNA, CM [Gwendolyn] following.""",
    """NPN 7A-7P
PT SEEN BY [HARTIGAN] FROM RENAL, PLAN FOR HD IN AM.
K 5.8, KAYEXALATE 30G PO GIVEN. INSULIN/D50 GIVEN PER [HARTIGAN].
PT VERY SOB W/ TURNS, NEB GIVEN, LASIX 80MG IV W/ 500CC UO.
FAMILY: DAUGHTERS [CONSUELO] AND [MARISOL] IN THIS PM. [CONSUELO] IS HCP, CELL [(978) 555-0134].
LAST HD [9-23] AT [DAVITA] IN [LAWRENCE].""",
    """NURSING PROGRESS NOTE 1900-0700
EVENTS: PT PULLED NGT AT 2200, REPLACED BY RN, CXR CONFIRMED PLACEMENT.
NEURO: AGITATED, HALDOL 2MG IV X2, SITTER AT BEDSIDE.
[ANSELM] KEEPS ASKING FOR HIS WIFE [BEATRIX].
[BEATRIX] CALLED X3 OVERNIGHT, REASSURED.
SKIN: STAGE II DECUB ON COCCYX, DUODERM CHANGED.
ADMITTED [2/28] FROM [GOOD SAMARITAN] AFTER FALL AT HOME IN [STOUGHTON].""",
    """Pt is a 58 yo M s/p MVC [7/4], intubated in field, medflighted to this facility.
Neuro: GCS 7T, propofol held for neuro exam at 0800 per neurosurg.
Brother [Ignatius] and sister-in-law [Wilhelmina] in to visit, very tearful.
[Ignatius] given update by Dr. [Nakagawa], agreeable to trach/PEG.
CT head [7/5] stable, repeat planned [7-7].""",
    """NPN
RESP: WEANED TO CPAP 5/5 AT 0900, TOLERATING WELL, RSBI 60.
EXTUBATED AT 1130 TO 4L NC. STRIDOR NOTED, RACEMIC EPI NEB X1 W/ GOOD EFFECT.
PT STATES HE WANTS TO GO HOME TO [MASHPEE].
WIFE [DOROTHEA] AND FRIEND [CORNELIUS] AT BEDSIDE.
CALLED [PRISCILLA] IN ADMITTING, PT ON LIST FOR FLOOR BED.
REPORT GIVEN TO [JOCELYN] RN ON [FARR 7].""",
]

# Written last, after every rule change, and measured once: no rule was changed after seeing it.
HELD_OUT_2 = [
    """NSG NOTE 3P-11P
PT IS AN [94] YO WOMAN ADMITTED [10-2] FROM [HOLY FAMILY] HOSP W/ GI BLEED.
NEURO: ALERT, HOH, FOLLOWS COMMANDS. MAE.
GI: MAROON STOOL X2, HCT 22.4 FROM 26. 2 UNITS PRBC GIVEN. GI AWARE, EGD IN AM.
SOCIAL: NEPHEW [LAZARUS] IS HCP, LIVES IN [WAKEFIELD]. CALLED HIM AT [781-555-0190] AND UPDATED.
[LAZARUS] STATES PT WOULD NOT WANT TO BE INTUBATED. DR [ABERCROMBIE] MADE AWARE.""",
    """Nursing Progress Note
Events: Pt transferred from the floor at 0200 for hypotension, SBP 70s, 2L NS bolus given.
[Seraphina] is a 66 yo F s/p ex-lap [5/30] for SBO.
Husband [Dale] at bedside overnight, asking appropriate questions; updated by RN and Dr. [Vukovic].
Pt's son [Ambrose] called from [Nashua] at 0400, will be in this afternoon.
Resp: 3L NC, sats 93-95%. CPAP at night per home regimen.
Plan: surgery to see in AM, f/u lactate, family meeting [6/2] at 1300.""",
    """CCU NPN 7A-7P
CV: S/P PCI TO RCA [8/19]. HR 60S SB, NO ECTOPY. SBP 100-110.
GROIN SITE SOFT, DSD INTACT. PEDAL PULSES PALPABLE.
PT'S DTR [MAGNOLIA] AND HER HUSBAND [ORVILLE] VISITED, VERY SUPPORTIVE.
[ORVILLE] WILL DRIVE PT HOME TO [PEABODY] WHEN D/C'D.
REPORT GIVEN TO [TRISHA] RN.""",
    """MICU NURSING ADMIT NOTE
82 YO M FROM [SUNRISE] NURSING HOME WITH FEVER AND AMS, ADMITTED VIA EW [1/9].
ID: CULTURES SENT, STARTED ON VANCO/ZOSYN.
SOCIAL: WIDOWED, DAUGHTER [PHYLLIS] ([978-555-0127]) IS HCP. SON [CLEMENT] LIVES IN OHIO.
[PHYLLIS] ASKED THAT HER BROTHER BE CALLED; MESSAGE LEFT.
CASE DISCUSSED W/ [DR. FAIRWEATHER], MICU ATTENDING.""",
    """NPN
Pt pleasant, oriented x3. Ambulated in hall with PT.
Lasix 40 mg IV given at 1000 with 1.2 L UO.
Wife [Honor] called twice; she is anxious about discharge plans.
[Honor] would like the team to call [Dr. Pettigrew] (PCP) before d/c.
Plan: d/c to home with services vs [Youville] rehab, CM aware.""",
]

# Written for issue 9 (names without cues, bare hospitals, month names) before any measurement or rule
# change of that round, and not edited afterwards: the rules of that round were measured on it, never
# tuned on it. One gold mark was taken out before the first measurement (a weekday alone is no date) and one added
# after it (the age 92, over 89, was left unmarked by mistake); no other edit.
HELD_OUT_3 = [
    """NPN 1900-0700
NEURO: SEDATED ON FENTANYL 50 MCG/HR AND VERSED 2 MG/HR, RASS -2. PERRL 3MM. NO SZ ACTIVITY NOTED.
CV: HR 90-110 ST, SBP 90S-100S ON NEO 1.2 MCG/KG/MIN. CVP 8-10. K 3.3 REPLETED.
RESP: AC 500 X 18, PEEP 10, FIO2 60%. ABG 7.31/48/71. SX FOR THICK YELLOW SPUTUM.
GI: TF NEPRO AT 20CC/HR, RESIDUALS <30CC. OGT TO LCS. NO BM, COLACE/SENNA GIVEN.
ID: TMAX 101.9, BC X2 SENT. ON MEROPENEM, VANCO TROUGH IN AM.
SOCIAL: [CHIDI] CALLED AT 2300 FOR UPDATE, HE IS PT'S SON AND LIVES IN [WORCESTER].
[AMARA] PLANS TO VISIT TOMORROW AFTER WORK, CAN BE REACHED AT [508-555-0188].""",
    """NURSING PROGRESS NOTE 7A-7P
[ESPERANZA] HAD A GOOD DAY, OOB TO CHAIR X2 HRS WITH PT.
NEURO: AOX3, MAE, HOH - HEARING AID IN L EAR.
CV: AFIB 80-100, LOPRESSOR 25MG PO GIVEN. HEPARIN GTT AT 900 U/HR, PTT 68.
RESP: 2L NC, SATS 95%. LUNGS W/ CRACKLES AT BASES. IS 750.
GU: VOIDING QS IN COMMODE.
SKIN: MEPILEX TO COCCYX, STAGE I.
DAUGHTER [MERCEDES] AND GRANDDAUGHTER [PALOMA] IN THIS AFTERNOON, UPDATED BY DR [KRISHNAMURTHY].
PLAN: D/C TO [KINDRED] VS HOME WITH VNA, SCREENING SENT [6-12].""",
    """MICU NPN
PT IS A [96] YO WOMAN ADMITTED ON [11/23] WITH UROSEPSIS FROM [MELROSE-WAKEFIELD].
[GUNNAR] (HUSBAND) AT BEDSIDE ALL DAY, ASKING GOOD QUESTIONS.
LEVOPHED WEANED OFF AT 1500. ZOSYN AND FLAGYL CONTINUED.
[BUCK] FROM PHARMACY CALLED RE: ZOSYN DOSE.
RENAL CONSULTED, CR 2.4 UP FROM 1.8.
FAMILY MEETING PLANNED FOR [TUESDAY 11/27] WITH [DR. ODUYA].""",
    """NPN 11P-7A
PT CONFUSED OVERNIGHT, PULLING AT LINES, HALDOL 1MG IV X1 WITH FAIR EFFECT.
SITTER AT BEDSIDE. [HOLLIS] KEEPS TRYING TO CLIMB OOB.
CT HEAD [8-3] NEG, MRI PLANNED.
WIFE [MAUREEN] CALLED 0200, TOLD ABOUT HALDOL, SHE AGREES.
TELEMETRY: NSR 70S, OCC PVCS.
LABS: NA 131, K 4.1, HCT 30.
REPORT GIVEN TO [DOTTIE], DAY RN.""",
    """CCU NURSING NOTE
S/P STEMI, CATH [4/14] AT [LAWRENCE GENERAL] WITH DES TO LAD, TRANSFERRED HERE FOR CABG EVAL.
CP FREE THIS SHIFT. NTG GTT AT 40 MCG/MIN.
CT SURGERY ([DR. VASQUEZ-BELL]) IN TO SEE PT, CABG PLANNED [4/18].
PT'S SISTER [ROBIN] FLEW IN FROM [ALBUQUERQUE], STAYING AT A HOTEL NEARBY.
[ROBIN] ASKS TO BE CALLED AT [(505) 555-0149] W/ ANY CHANGES.
[MR. TOLLIVER] ANXIOUS ABOUT SURGERY, ATIVAN 0.5MG PO GIVEN.""",
    """Nursing Progress Note
Pt is a 71 yo M with ESRD on HD, admitted [2/2] with hyperkalemia.
Neuro: A+Ox3, pleasant, c/o itching, benadryl given.
Renal: HD today, 2.5 L removed, tolerated well. Last HD prior to admit [1/30] at [DaVita] in [Brockton].
Social: lives with wife [Consolata] in [Randolph]. Son [Ezekiel] is a nurse at [Good Samaritan].
[Consolata] called at 1600, questions answered.
Plan: HD again Thursday, d/c home when K stable.""",
    """NPN 7P-7A
RESP: TRACH COLLAR 40%, SATS 97%. SX Q2-3H FOR MOD WHITE SECRETIONS.
NEURO: OPENS EYES TO VOICE, NOT FOLLOWING COMMANDS.
GI: PEG WITH PROMOTE W/ FIBER AT 60CC/HR.
[KWAKU] REMAINS DNR, FAMILY AWARE.
PT'S NEPHEW [OBINNA] VISITED, WILL TALK W/ CM [JANELLE] ABOUT REHAB.
SCREENED BY [HEBREW REHAB] AND [NEW ENGLAND SINAI], AWAITING BED.
BROTHER LIVES IN [LAGOS], NIGERIA, WAS UPDATED BY PHONE.""",
    """MICU NURSING NOTE 0700-1900
EVENTS: PT EXTUBATED AT 1000 TO 50% FACE TENT, TOLERATING WELL.
NEURO: ALERT, MAE, VOICE HOARSE.
CV: SR 80S, SBP 120-140. LOPRESSOR RESTARTED.
ID: AFEBRILE, CIPRO PO.
[PRUDENCE] REFUSED BREAKFAST BUT TOOK SOME SOUP AT LUNCH.
SOCIAL: HUSBAND [HAMISH] AND SON [ANGUS] IN, VERY SUPPORTIVE. THEY LIVE IN [BELMONT].
[ANGUS] ASKED ABOUT TRANSFER TO [MOUNT AUBURN] TO BE CLOSER TO HOME. DR [FEENEY] TO DISCUSS.""",
    """Nursing Progress Note
Pt transferred from [Beverly] Hospital ED on [9/9] with acute pancreatitis.
[Maximilian] c/o 8/10 epigastric pain, dilaudid PCA increased per Dr. [Ahn].
NPO, IVF D5 1/2NS at 150cc/hr. Amylase/lipase pending.
[Greta] (girlfriend) at bedside, very supportive, asking about plan.
Pt's mother [Hildegard] called from [Stuttgart] twice.
Plan: serial abd exams, repeat CT abd [9-11].""",
    """NPN
PT IS A 84 YO MALE FROM [CHELMSFORD], ADMITTED [JANUARY 3RD] FOR COPD EXAC.
BIPAP OVERNIGHT 10/5 40%, OFF IN AM TO 4L NC.
NEBS Q4H, SOLUMEDROL 60MG IV Q8H, AZITHRO.
[LEONID] VISITED WITH HIS WIFE, BOTH UPDATED.
PT WAS LAST ADMITTED IN [DECEMBER] TO [LOWELL GENERAL].
PCP IS [DR. PRZYBYLA], [978-555-0115].""",
    """CSRU NPN 7P-7A
S/P CABG X4 ON [5-6]. CT OUTPUT 20-40CC/HR SEROSANG.
AV PACED AT 88, UNDERLYING SB 50S. EPI 0.02, NEO OFF.
EXTUBATED AT 2130, NOW ON 4L NC WITH SATS 96%.
INSULIN GTT PER PROTOCOL, BS 110-150.
PT ASKING FOR DAUGHTER [SUNNY], CALLED HER AT HOME, SHE WILL COME IN AM.
[FENWICK] DOING WELL, MEDICATED WITH PERCOCET X1 FOR INCISIONAL PAIN.""",
    """NPN
PT IS A [92] YO F FROM [SEA VIEW] NURSING HOME, DNR/DNI.
[YOLANDE] DENIES PAIN, BUT GRIMACES W/ TURNING. MORPHINE 1MG IV PRN.
SKIN: STAGE III DECUB ON SACRUM, WOUND RN [BARB] SAW PT, RECS IN CHART.
HCP IS NIECE [CLEMENTINE] WHO LIVES IN [FALL RIVER].
[CLEMENTINE] WANTS COMFORT FOCUSED CARE, PALLIATIVE CARE CONSULT PLACED.
NEXT TEAM MEETING THURSDAY, SW [MARGIE] AWARE.""",
]

# Lines with no PHI, written at the same time as HELD_OUT_3.
NEGATIVE_2 = [
    "PT ON ZOSYN AND VANCO, FLAGYL D/C'D.",
    "DOBHOFF PLACED, KUB CONFIRMED POSITION.",
    "ALLEVYN DSG TO SACRUM, MEPILEX TO HEELS.",
    "CVVHDF RUNNING W/O ISSUE, UF 100CC/HR.",
    "PNEUMOBOOTS ON, SQ HEPARIN.",
    "NEO WEANED TO 0.5, LEVO OFF.",
    "PT TOLERATING BIPAP 12/5, WILL TRIAL NC IN AM.",
    "LASIX DRIP AT 10MG/HR, GOOD UO.",
    "PROMOTE W/ FIBER AT GOAL.",
    "SENNA, COLACE, DULCOLAX GIVEN, NO BM YET.",
    "TRACH SITE CLEAN, INNER CANNULA CHANGED.",
    "SPIRIVA AND ADVAIR RESTARTED.",
    "CIWA SCALE 4, NO ATIVAN NEEDED.",
    "MRSA SWAB SENT, CONTACT PRECAUTIONS.",
    "PT REFUSED SUPPOSITORY.",
    "CORTRAK PLACED BY IV TEAM.",
    "PT WENT TO CT AT 1400 WITH RN.",
    "HOLLISTER BAG TO OSTOMY, SMALL AMT LIQUID STOOL.",
    "MAALOX GIVEN FOR INDIGESTION WITH RELIEF.",
    "FLEXISEAL IN PLACE, DRAINING LIQUID BROWN STOOL.",
    "PROTONIX 40MG IV, CARAFATE PO.",
    "PT STILL MAY NEED PRBC IF HCT DROPS.",
    "WILL FOLLOW UP WITH RENAL IN AM.",
    "PATIENT AWAKE, CALM, WATCHING TV.",
    "NO FAMILY CONTACT THIS SHIFT.",
    "DILAUDID PCA WITH GOOD PAIN CONTROL.",
    "PT STATES PAIN IS BETTER.",
    "TURNING SIDE TO SIDE, ROHO MATTRESS.",
    "MAY ADVANCE DIET AS TOLERATED.",
    "MARCH IN PLACE WITH PT, TOLERATED.",
    "Pt on Zyvox for VRE, Fluconazole for yeast in urine.",
    "Flowtrons on, Lovenox held for procedure.",
    "Aline with good waveform, Swan numbers stable.",
    "Coumadin held, INR 3.2.",
    "Nexium and Reglan given before TF.",
    "Neosynephrine weaned to off by 1600.",
    "Pt ambulated with walker, steady gait.",
    "Ensure TID with meals.",
    "Cardiology aware of runs of NSVT.",
    "Hospital course complicated by C diff.",
]

# Written in the fourth session of 2026-11-27 before any rule change of that session, mostly in mixed case
# (the style of most ICU nursing notes of the 2000s): staff first names without titles, relatives named once,
# dates without years. Measured first, then used for no tuning beyond the generic rules the session notes name.
# Two gold marks were taken out after the first measurement, by the convention of HELD_OUT_3 (Safe Harbor keeps
# the year, and a weekday alone is no date): "Friday" and "died in 2003"; no other edit.
HELD_OUT_4 = [
    """Nursing Progress Note 7a-7p
Neuro: A&Ox3, MAE, following commands. Denies pain.
CV: NSR 70s-80s, occasional PACs. SBP 110s-130s. Lopressor 25 mg po bid.
Resp: LS clear, diminished at bases. 2L NC, sats 96-98%.
Social: Pt's wife [Marianne] called at 1030 and was updated. She plans to visit tonight with their son [Derek].
Pt was seen by Dr. [Haddad] from cardiology who recommends echo in am.
Report given to [Kathy] RN for the night shift.""",
    """NPN 1900-0700
Pt had an uneventful night. Slept in naps.
Resp: Remains on AC 500x14, PEEP 5, FiO2 40%. ABG 7.42/38/104 at 0400.
GI: TF at goal 60cc/hr, residuals min.
ID: Tmax 99.8. Vanco trough [2/12] was 18.
Family: Daughter [Elena] at bedside until 2200. She is HCP and asks to be called
at home at [617-555-0171] with any change.
[Elena] also wants to speak with [Dr. Whitcomb] tomorrow regarding trach.""",
    """MICU Nursing Admission Note
[91] yo woman with h/o CHF, AFib on coumadin, transferred from [Cape Cod Hospital] on [3/22] with GI bleed.
In the ED she received 2 units PRBC and 2 FFP.
Neuro: HOH, alert, pleasant, oriented to self and place.
Her son [Walter] and his wife [Joanne] came in with her; they live in [Falmouth].
Plan: EGD in am, serial hcts, keep 2 units cross-matched.
PCP: Dr. [Esposito], [508-555-0163].""",
    """CCU NPN
Events: Pt to cath lab at 1100, 90% RCA lesion stented. Returned at 1330, R groin site soft.
Heparin off at 1400, sheath pulled by [Tomas] (fellow) at 1700, hemostasis after 20 min pressure.
Pt's daughter [Rachel Goldberg] called from [Denver], would like an update from MD.
Spoke with [Rachel] at 1800 and gave her the team's number.
Plan: ASA, plavix, statin. Echo on [10/3]. Possible d/c [10/4] if stable.""",
    """nursing progress note 7p-7a
pt alert, oriented x1-2, at times agitated trying to get oob. haldol 1mg iv at 0100 w/ good effect.
resp: 3L nc sats 95%.
gu: foley draining clear yellow urine 30-60cc/hr.
social: no calls from family overnight. son [eddie] called yesterday per day rn.
pt keeps asking for [rosemary], his wife, who died in 2003.""",
    """NPN 7a-7p
[Mr. Castellano] was more awake today, nodding appropriately to questions.
Weaned to CPAP 10/5 at 0900, RR 20s, TV 400s. Back on AC overnight per team.
Skin: stage II on coccyx, wound care RN [Lorraine] saw him and left recs.
Plan for trach/PEG on Friday with [Dr. Oyelaran] from thoracic surgery.
Sister [Antonia] and brother-in-law [Sal] in visiting this pm.
They have been told about trach and are in agreement.""",
    """Nursing Note
Pt arrived from [Addison Gilbert] at 1500 via ambulance for further management of DKA.
FS 450 on arrival, insulin gtt started at 5 u/hr per protocol.
[Jasmine] is a 24 yo F with IDDM since age 9, lives with her mother in [Gloucester].
Mother [Yvette] at bedside. Pt's endocrinologist is Dr. [Lindqvist] at [Joslin].
Plan: q1h FS, lytes q4h, advance diet when AG closed.""",
    """NPN
Neuro: lethargic but arousable, follows simple commands.
CV: Afib 90-110, dilt gtt at 10mg/hr. SBP 100-120.
Resp: 4L NC, sats 92-94%, lasix 40 iv given with 900cc UO.
Spoke with pt's wife [Gladys] on the phone at 1500. She is unable to visit due to her own illness.
[Gladys] asked if [Father Kiernan] from [St. Brendan's] could come and see him; pastoral care paged.
Code status: DNR, confirmed with [Gladys].""",
    """TSICU Nursing Note 0700-1900
Pt is a 45 yo M s/p fall from ladder on [6-14], multiple rib fx, L PTX s/p chest tube.
Chest tube to -20 sxn, no air leak, 80cc serosang out this shift.
Pain: epidural placed by [Dr. Banerjee] (anesthesia) at 1000, fentanyl/bupivacaine at 8cc/hr.
Girlfriend [Tanya] and his boss from [Raytheon] visited.
Pt's employer will contact his mother in [Portland, Maine].
Ortho ([Dr. McAllister]) to see re: L wrist.""",
    """NPN
Family meeting held today at 1400 with Dr. [Petrakis], SW [Nadine], pt's daughters [Lucy] and [Margaret],
and son [Frank].
Decision made to make pt CMO. Morphine gtt started at 2mg/hr.
Pt comfortable, RR 20s, no grimacing.
Chaplain [Bill] in to pray with family.
Family requests that pt's brother [Eugene Walsh] be allowed to visit after hours; ok with charge RN [Denise].""",
    """Nursing Progress Note
S: "I want to go home."
O: Pt was admitted on [7/19] with PNA, now on day 5 of levo.
Ambulating in hall with walker and PT ([Ginny]), steady.
A: Improving.
P: Screened for rehab, [Sherrill House] has a bed [7/25]. Case manager [Wendy] will call pt's
niece [Colleen] at [781-555-0152] to confirm.""",
    """MICU NPN nights
Pt restless early in shift. Repositioned, medicated with morphine 2mg iv.
Labs: K 3.2, repleted with 40 meq KCL. Mg 1.6, 2 gm MgSO4 given.
Urine cx from [11/30] + for E coli, on cipro.
Pt's wife [Ingrid] called at 2300 from [Sweden], where she is visiting family; she will fly back [12/4].
Pt's daughter [Astrid] lives locally in [Newton] and will be in tomorrow.
[Ingrid]'s cell is [+46 70 555 0123].""",
]

# Lines with no PHI, written with HELD_OUT_4: eponyms, brands and devices in mixed case.
NEGATIVE_3 = [
    "Swan-Ganz catheter pulled, tip sent for culture.",
    "JP drain with 30cc serosanguinous drainage, Penrose dry.",
    "Dressing changed with Xeroform and Kerlix, Tegaderm over PICC.",
    "Bair Hugger on for temp 35.6.",
    "Posey vest on per MD order for safety.",
    "Passy-Muir valve trialed with speech therapy.",
    "Shiley 8 trach, cuff deflated.",
    "Miami J collar in place, log roll only.",
    "Salem sump to LIWS, Levine tube removed.",
    "Pt placed in Trendelenburg for line placement.",
    "Kussmaul respirations noted, ABG sent.",
    "Cheyne-Stokes breathing while asleep.",
    "Babinski negative bilaterally, Glasgow coma scale 14.",
    "Braden score 12, Kinair bed ordered.",
    "Murphy's sign negative, RUQ US pending.",
    "Hx of Crohn's disease and Barrett's esophagus.",
    "Guillain-Barre ruled out, LP done.",
    "S/p Whipple, JP to bulb suction.",
    "Known Wolff-Parkinson-White, on flecainide.",
    "Mobitz I overnight, asymptomatic.",
    "Kerley B lines on CXR per radiology.",
    "Allen test positive, radial aline placed.",
    "Holter monitor to be placed before discharge.",
    "Plavix and Coumadin held for procedure.",
    "Yankauer suction at bedside.",
    "Hickman line flushed, Groshong intact.",
    "Pleurx catheter drained 1L.",
    "Ambu bag and mask at bedside.",
    "Valsalva maneuver with no conversion.",
    "Doppler signals present in both feet.",
    "Aspen collar ordered for when out of bed.",
    "Minnesota tube on standby.",
    "Roux-en-Y in 2005 per pt.",
    "Nissen fundoplication years ago.",
    "Morse fall score 45, bed alarm on.",
    "Chvostek and Trousseau negative.",
    "Foley changed, Coude catheter used.",
    "Bell's palsy on the left since childhood.",
    "Hartmann pouch with stoma pink and moist.",
    "Sengstaken tube not needed.",
]

# Ordinary mixed-case nursing lines with no PHI, written after the lower-case rule of the fourth session; typed in
# lower case two of them showed false alarms ("transfer to floor"), and a window of lower-case words in a
# mixed-case note had been read like a lower-case note: both fixed. Tested as written, in capitals and in lower case.
NEGATIVE_4 = [
    "Neuro: Pt alert and oriented x3, MAE, follows commands. PERRLA. Denies pain at this time.",
    "CV: HR 80's NSR with occasional PVC's. SBP 110-130's. Pulses palpable x4.",
    "Resp: LS clear upper lobes, diminished bases bilat. Sats 95-97% on 4L NC. Strong cough, sputum thick tan.",
    "GI: Abd soft, non-distended, +BS. Tolerating clear liquids. Last BM 2 days ago, Senna and Colace given.",
    "GU: Foley to gravity draining clear yellow urine 40-80cc/hr. Lasix 40mg IV given at 1400 with good response.",
    "Skin: Stage II decub on coccyx, Duoderm intact. Heels offloaded with pillows.",
    "Endo: FS 120-180, covered per RISS. Lantus 20 units given at HS.",
    "ID: Tmax 100.2 po. WBC 12.4 up from 10.1. Blood cx x2 sent. Cont on Vanco and Zosyn.",
    "Heme: Hct stable at 29. No s/s bleeding. SQ Heparin for DVT prophylaxis.",
    "Social: Family in to visit this evening, updated on plan of care by RN.",
    "Pt seen by PT this am, able to ambulate 50 ft with rolling walker and assist x1.",
    "Pt medicated with Percocet 1 tab po for c/o incisional pain 6/10 with good relief.",
    "Dilaudid 0.5mg IV given x2 for breakthrough pain.",
    "Pt refused Ensure, states it makes him nauseous. Encouraged po intake.",
    "Started on Levofloxacin per ID recs. Flagyl d/c'd.",
    "Propofol gtt weaned off at 0800 for SBT, tolerated well on CPAP 5/5.",
    "Extubated at 1030 to 50% cool neb, ABG 7.40/40/98.",
    "Pt c/o nausea, Zofran 4mg IV given with relief.",
    "Neo gtt titrated to keep MAP > 65, currently at 1.5 mcg/kg/min.",
    "Insulin gtt started per protocol for BS > 200 x2.",
    "Right IJ CVL placed by team, CXR confirms placement, ok to use.",
    "PICC line flushed, dressing c/d/i, changed per protocol.",
    "Aline dampened, flushed and re-zeroed, now with good waveform.",
    "Tube feeds Promote with fiber advanced to goal of 60cc/hr, residuals < 50cc.",
    "Pt restless overnight, Ativan 1mg IV x1 with good effect, slept in naps.",
    "Pt OOB to chair for 2 hrs, tolerated well, back to bed at 1600.",
    "Cont to monitor I/O's, lytes, and resp status. Will notify team of changes.",
    "Wound vac to abdomen at -125mmHg, draining small amt serosang fluid.",
    "Chest tube to 20cm suction, no air leak, 30cc serosang drainage this shift.",
    "Pt with frequent loose stools, C diff sent, on contact precautions.",
    "NGT to LIWS draining bilious fluid, 200cc this shift.",
    "Coude catheter placed by urology after 2 failed attempts by RN.",
    "Pt on Bipap overnight for OSA, uses home settings.",
    "Trach care done, inner cannula changed, stoma site clean.",
    "Pt transferred to floor at 1500 in stable condition, report called to RN.",
    "Mg 1.7, repleted with 2gm MgSO4 IV. K 3.5, 40 meq KCL po given.",
    "Coags: INR 2.8, Coumadin held tonight per team.",
    "Pt received 1 unit PRBC for Hct 24, post transfusion Hct pending.",
    "EKG done for c/o chest pressure, no changes from prior, MD aware.",
    "Echo done at bedside, results pending. Cards following.",
    "Pt anxious about procedure tomorrow, questions answered, emotional support given.",
    "Diet advanced to cardiac/diabetic, pt tolerated lunch without difficulty.",
    "Q2h turns, skin care, oral care done. HOB > 30 degrees.",
    "Pneumoboots on both legs. Incentive spirometer 1000 ml.",
    "Plan: Cont current management, wean O2 as tolerated, possible transfer to floor tomorrow.",
    "Pt with Ileus, Reglan started, NPO except meds.",
    "Dobhoff advanced to post pyloric position under fluoro.",
    "Solumedrol 125mg IV q8h, Albuterol and Atrovent nebs q4h.",
    "Pt with Afib RVR to 140's, Lopressor 5mg IV x3 then Dilt gtt started.",
    "Nitro gtt at 50 mcg/min for SBP > 160, titrating.",
]
