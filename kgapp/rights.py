"""Whose content is whose: the one statement VoID, export files and the page footer carry."""

RIGHTS = (
    "CPT® is a registered trademark of the American Medical Association (AMA); CPT code numbers and "
    "descriptors are the AMA's and are not licensed by kgapp. kgapp's licence (MIT) covers only its own "
    "work: short names, structure, mappings and code. ICD-10-CM, HCPCS Level II, place-of-service, Medicare "
    "fee-schedule and NUCC taxonomy content is public and named with its source."
)
