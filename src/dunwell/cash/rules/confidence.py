"""The confidence table: how sure each kind of evidence makes the matcher, per mille.

A proposal's confidence is the strength of its weakest piece of evidence that ties the items to
the payment, less what the amount leaves unexplained, plus a little when the payer's identity
agrees. With the default threshold of 900, the first block auto-applies when the amount fits and
nothing else comes close; everything from "invoice number of the payer" down goes to a person
unless the payer's IBAN is well known.

| evidence (tier, DOMAIN.md 4.4)                                   | per mille          |
| ---------------------------------------------------------------- | ------------------ |
| 1 valid structured reference we issued (RF, OGM, QRR, KID, viite) | 990                |
| 2 end-to-end id we issued                                        | 990                |
| 3 invoice number in structured remittance (RfrdDocInf)            | 970                |
| 3 invoice number in the text: with its prefix, or >= 6 characters | 950                |
| 3 ... the same number fits two items                             | 850                |
| 3 short number after "invoice", "Rechnung", "no." (not the payer's)| 860               |
| 3 short number of the identified payer's items                    | the payer's, <= 930 |
| 4 payer IBAN learned, confirmed n times (n <= 3)                 | 860 + 25 n         |
| 4 ... IBAN shared by several customers                           | - 100              |
| 4 payer name similar (rapidfuzz WRatio >= 97 / 92 / cutoff)       | 820 / 780 / 720    |
| 4 ... and the IBAN agrees                                        | + 20               |
| reference with a typo (one edit from one we issued)               | 760, review only   |
| invoice number read with O/I/l for 0/1                           | 760, review only   |

| amount                                                        | adjustment                 |
| ------------------------------------------------------------- | -------------------------- |
| exact, discount in its window, credit notes netted            | 0                          |
| short within the bank-charges tolerance                       | - 10                       |
| partial or overpaid, items designated by reference/remittance | - 40                       |
| partial or overpaid, items found otherwise                    | - 120                      |
| some of the named items add up to the payment                 | - 80                       |
| a unique combination of the payer's items (subset-sum)        | - 60, review only          |
| several equal explanations (a tie)                            | - 150, review only         |
| payer known, amount fits nothing: oldest first as a suggestion| - 400, review only         |
| amount alone equals one open item (no other evidence)         | 300 (200 if several)       |
| number evidence on the items of an IBAN-identified payer      | + 20                       |

"Review only" proposals are capped just below the company's threshold whatever their score, so
a typo, an OCR reading, a name, a combination or a tie never auto-apply on their own.
"""

from __future__ import annotations

REFERENCE = 990
REMITTANCE = 970
NUMBER = 950
NUMBER_AMBIGUOUS = 850
NUMBER_LABELLED = 860
NUMBER_OF_PAYER = 930
TYPO = 760
OCR = 760

IBAN_BASE = 860
IBAN_STEP = 25
IBAN_SHARED = 100
NAME_EXACT, NAME_CLOSE, NAME_FAIR = 820, 780, 720
NAME_AND_IBAN = 20
NAME_AMBIGUOUS = 80
PAYER_AGREES = 20

CHARGES = 10
DESIGNATED_MISFIT = 40
MISFIT = 120
SOME_OF_NAMED = 80
SPLIT_CUSTOMERS = 100
SUBSET = 60
TIE = 150
PAYER_OLDEST = 400
AMOUNT_ONLY, AMOUNT_ONLY_TIED = 300, 200

REVIEW_ONLY = frozenset(
    {"reference-typo", "invoice-number-ocr", "name+amount", "subset", "payer", "amount"}
)


def iban_strength(confirmations: int, shared: bool) -> int:
    return IBAN_BASE + IBAN_STEP * min(max(confirmations, 0), 3) - (IBAN_SHARED if shared else 0)


def name_strength(score: int) -> int:
    return NAME_EXACT if score >= 97 else NAME_CLOSE if score >= 92 else NAME_FAIR
