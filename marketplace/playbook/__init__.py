"""The change-of-control playbook (issue 17): what a contract does when its vendor becomes tied to the lab's rival.

Each contract gets its playbook when it is made, from the lab's defaults; the lab may change it until it runs. When
the lab's verdict on the vendor turns to exclude, a winding-down playbook runs at once: the contract is paused, the
data-access grants it issued are revoked through a signed call to the lab's storage (and new ones refused), the
work done is settled pro rata through Stripe once the lab confirms the shares, and an officer of the vendor must
attest the deletion of the lab's data by a deadline (reminded before it, escalated to the platform's admins after
it). The lab may instead go on with the contract, giving its reason, which the audit trail keeps.
"""
