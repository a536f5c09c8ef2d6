# shellcheck shell=bash
# CIS 3.2 and 3.3: network parameters for a host that is not a router. The SSG content for Debian 11 (0.1.65) has
# no rules for these parameters, so only CIS numbers are registered.

apply_net_send_redirects() { sysctl_rule_apply net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0; }
audit_net_send_redirects() { sysctl_rule_audit net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0; }

apply_net_ip_forward() { sysctl_rule_apply net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0; }
audit_net_ip_forward() { sysctl_rule_audit net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0; }

IF_NET_SOURCE_ROUTE=(net.ipv4.conf.all.accept_source_route=0 net.ipv4.conf.default.accept_source_route=0
    net.ipv6.conf.all.accept_source_route=0 net.ipv6.conf.default.accept_source_route=0)
apply_net_accept_source_route() { sysctl_rule_apply "${IF_NET_SOURCE_ROUTE[@]}"; }
audit_net_accept_source_route() { sysctl_rule_audit "${IF_NET_SOURCE_ROUTE[@]}"; }

IF_NET_ACCEPT_REDIRECTS=(net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.default.accept_redirects=0
    net.ipv6.conf.all.accept_redirects=0 net.ipv6.conf.default.accept_redirects=0)
apply_net_accept_redirects() { sysctl_rule_apply "${IF_NET_ACCEPT_REDIRECTS[@]}"; }
audit_net_accept_redirects() { sysctl_rule_audit "${IF_NET_ACCEPT_REDIRECTS[@]}"; }

apply_net_secure_redirects() { sysctl_rule_apply net.ipv4.conf.all.secure_redirects=0 net.ipv4.conf.default.secure_redirects=0; }
audit_net_secure_redirects() { sysctl_rule_audit net.ipv4.conf.all.secure_redirects=0 net.ipv4.conf.default.secure_redirects=0; }

apply_net_log_martians() { sysctl_rule_apply net.ipv4.conf.all.log_martians=1 net.ipv4.conf.default.log_martians=1; }
audit_net_log_martians() { sysctl_rule_audit net.ipv4.conf.all.log_martians=1 net.ipv4.conf.default.log_martians=1; }

apply_net_icmp_echo_ignore_broadcasts() { sysctl_rule_apply net.ipv4.icmp_echo_ignore_broadcasts=1; }
audit_net_icmp_echo_ignore_broadcasts() { sysctl_rule_audit net.ipv4.icmp_echo_ignore_broadcasts=1; }

apply_net_icmp_ignore_bogus_errors() { sysctl_rule_apply net.ipv4.icmp_ignore_bogus_error_responses=1; }
audit_net_icmp_ignore_bogus_errors() { sysctl_rule_audit net.ipv4.icmp_ignore_bogus_error_responses=1; }

apply_net_rp_filter() { sysctl_rule_apply net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1; }
audit_net_rp_filter() { sysctl_rule_audit net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1; }

apply_net_tcp_syncookies() { sysctl_rule_apply net.ipv4.tcp_syncookies=1; }
audit_net_tcp_syncookies() { sysctl_rule_audit net.ipv4.tcp_syncookies=1; }

apply_net_ipv6_accept_ra() { sysctl_rule_apply net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0; }
audit_net_ipv6_accept_ra() { sysctl_rule_audit net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0; }
