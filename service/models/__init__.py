"""All ORM models. Importing this package registers every table on ``Base.metadata``.

One file per aggregate. Alembic's autogenerate and relationship strings rely on every model
module being imported here.
"""

from service.models.audit import AUDIT_ACTIONS, AuditEvent, ErasureReport
from service.models.base import Base, new_id, utcnow
from service.models.campaign import Campaign, CampaignLanguage, Sentence, Translation
from service.models.clip import Clip
from service.models.consent import Consent, WithdrawalKey
from service.models.leader import Invite, Leader
from service.models.organisation import Organisation
from service.models.render import Compile, CompileClip, ObjectLineage
from service.models.upload import TusUpload
from service.models.user import ROLES, PasswordReset, Role, StaffSession, User

__all__ = [
    "AUDIT_ACTIONS",
    "ROLES",
    "AuditEvent",
    "Base",
    "Campaign",
    "CampaignLanguage",
    "Clip",
    "Compile",
    "CompileClip",
    "Consent",
    "ErasureReport",
    "Invite",
    "Leader",
    "ObjectLineage",
    "Organisation",
    "PasswordReset",
    "Role",
    "Sentence",
    "StaffSession",
    "Translation",
    "TusUpload",
    "User",
    "WithdrawalKey",
    "new_id",
    "utcnow",
]
