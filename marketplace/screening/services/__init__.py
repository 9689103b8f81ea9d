"""Screening's services, called by views and commands, which own the transaction: screening a vendor for a buyer
(screen), a buyer's rivals (rivals), its policy and waivers (policy), the vendor search (vendor_search), and
keeping stored verdicts current after a change (refresh).
"""
