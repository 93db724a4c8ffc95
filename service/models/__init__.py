"""All ORM models. Importing this package registers every table on ``Base.metadata``.

One file per aggregate. Alembic's autogenerate and relationship strings rely on every model
module being imported here.
"""

from service.models.base import Base, new_id, utcnow
from service.models.campaign import Campaign, CampaignLanguage, Sentence, Translation
from service.models.clip import Clip
from service.models.consent import Consent
from service.models.leader import Invite, Leader
from service.models.organisation import Organisation
from service.models.render import Compile, CompileClip
from service.models.upload import TusUpload
from service.models.user import ROLES, PasswordReset, Role, StaffSession, User

__all__ = [
    "ROLES",
    "Base",
    "Campaign",
    "CampaignLanguage",
    "Clip",
    "Compile",
    "CompileClip",
    "Consent",
    "Invite",
    "Leader",
    "Organisation",
    "PasswordReset",
    "Role",
    "Sentence",
    "StaffSession",
    "Translation",
    "TusUpload",
    "User",
    "new_id",
    "utcnow",
]
