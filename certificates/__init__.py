"""Certificates: issuer keys, VC-JWT signing and verification, status lists, QR tokens, codes.

This package's core is pure (no database, no Flask):

    jose         strict base64url, compact JSON, compact JWS signing (ES256, EdDSA)
    keys         key generation, public JWKs, RFC 7638 thumbprints, encryption at rest under the KEK
    trust        the trust list: issuers, their kinds, their keys and windows
    credentials  W3C VC 2.0 certificates: building, checking, signing as VC-JWT
    status_list  W3C Bitstring Status List: bits, encoding, index allocation, documents
    verify       the seven verification steps and the named outcomes
    compact      the QR token and its verification URL
    codes        short typed verification codes
    offline      verification with only a trust list and signed status lists
"""
