"""The words of ownership: BODS interest types, which of them count a share or name a role, and how each reads.

Pure data and text, no database: the screening engine explains its findings with it.
"""

import re
from typing import Literal, get_args

# BODS interest types (codelist interestType.csv), as a type (the import's compiled checks, bods_fast) and a tuple.
InterestType = Literal[
    "shareholding",
    "votingRights",
    "appointmentOfBoard",
    "otherInfluenceOrControl",
    "seniorManagingOfficial",
    "settlor",
    "trustee",
    "protector",
    "beneficiaryOfLegalArrangement",
    "rightsToSurplusAssetsOnDissolution",
    "rightsToProfitOrIncome",
    "rightsGrantedByContract",
    "conditionalRightsGrantedByContract",
    "controlViaCompanyRulesOrArticles",
    "controlByLegalFramework",
    "boardMember",
    "boardChair",
    "unknownInterest",
    "unpublishedInterest",
    "enjoymentAndUseOfAssets",
    "rightToProfitOrIncomeFromAssets",
    "nominee",
    "nominator",
]
INTEREST_TYPES: tuple[str, ...] = get_args(InterestType)
COUNTABLE_INTEREST_TYPES = frozenset({"shareholding", "votingRights"})
ROLE_INTEREST_TYPES = frozenset({"boardMember", "boardChair", "seniorManagingOfficial"})
# Interest types in words where splitting the code at its capitals does not read well.
_INTEREST_WORDS = {
    "votingRights": "voting rights",
    "appointmentOfBoard": "the right to appoint the board",
    "seniorManagingOfficial": "senior managing official",
    "beneficiaryOfLegalArrangement": "beneficiary of a legal arrangement",
}
_CAPITAL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def interest_words(kind: str) -> str:
    """A BODS interest type as words: "boardMember" is "board member", "rightsToProfitOrIncome" is "rights to
    profit or income"."""
    return _INTEREST_WORDS.get(kind) or _CAPITAL.sub(" ", kind).replace("_", " ").lower()
