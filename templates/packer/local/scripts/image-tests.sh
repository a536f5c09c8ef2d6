#!/bin/sh
# The image tests: the checks of the definition's tests: section, run inside the booted guest by the boot test (the
# seed's user-data carries this script and the checks). POSIX sh and what every image has (dpkg-query, systemctl,
# stat, getent, awk, /proc): nothing the tests need is installed for them.
#
# Usage: image-tests.sh <checks>   one check per line: kind<TAB>subject<TAB>expected (ImageTest.CheckerLines)
# Prints for each check, in order, one line
#   imageforge-test <n> <pass|fail> <what was observed>
# and at the end
#   imageforge-tests-done count=<n>
# which boot-test.sh finds on the serial console and image-tests-json.py turns into image-tests.json.
set -u

tab="$(printf '\t')"

# Whether a TCP socket (IPv4 or IPv6) listens on port $1: /proc/net/tcp* rows in state 0A (LISTEN), local address
# ending in :<port in hex>.
listening() {
    hex="$(printf '%04X' "$1")"
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk -v port=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == port { found = 1 } END { exit !found }'
}

n=0
while IFS="$tab" read -r kind subject expected; do
    [ -n "$kind" ] || continue
    n=$((n + 1))
    ok=no
    case "$kind" in
    package-present | package-absent)
        status="$(dpkg-query -W -f='${Status}' "$subject" 2>/dev/null || true)"
        installed=no
        [ "$status" != "install ok installed" ] || installed=yes
        observed="installed=$installed"
        if [ "$kind" = package-present ]; then [ "$installed" = no ] || ok=yes; else [ "$installed" = yes ] || ok=yes; fi
        ;;
    service-enabled)
        state="$(systemctl is-enabled "$subject" 2>/dev/null || true)"
        case "$state" in enabled | enabled-runtime | static | alias | indirect) ok=yes ;; esac
        observed="is-enabled=${state:-unknown}"
        ;;
    service-running)
        state="$(systemctl is-active "$subject" 2>/dev/null || true)"
        [ "$state" != active ] || ok=yes
        observed="is-active=${state:-unknown}"
        ;;
    file)
        if [ -e "$subject" ]; then
            observed="$(stat -c 'owner=%U group=%G' "$subject") mode=$(printf '%04d' "$(stat -c '%a' "$subject")")"
            ok=yes
            for want in $expected; do
                case " $observed " in *" $want "*) ;; *) ok=no ;; esac
            done
        else
            observed="missing"
        fi
        ;;
    sysctl)
        file="/proc/sys/$(printf '%s' "$subject" | tr . /)"
        if [ -r "$file" ]; then
            value="$(tr '\t\n' '  ' <"$file" | tr -s ' ' | sed 's/^ //; s/ $//')"
            [ "$value" != "$expected" ] || ok=yes
            observed="value=$value"
        else
            observed="no such key"
        fi
        ;;
    user-present | user-absent)
        exists=no
        ! getent passwd "$subject" >/dev/null || exists=yes
        observed="exists=$exists"
        if [ "$kind" = user-present ]; then [ "$exists" = no ] || ok=yes; else [ "$exists" = yes ] || ok=yes; fi
        ;;
    port-listening | port-closed)
        open=no
        ! listening "$subject" || open=yes
        observed="listening=$open"
        if [ "$kind" = port-listening ]; then [ "$open" = no ] || ok=yes; else [ "$open" = yes ] || ok=yes; fi
        ;;
    *)
        observed="unknown check kind"
        ;;
    esac
    result=fail
    [ "$ok" = no ] || result=pass
    # One line, printable characters only: the console is line-oriented.
    printf 'imageforge-test %d %s %s\n' "$n" "$result" "$(printf '%s' "$observed" | tr -c '[:print:]' ' ')"
done <"$1"
printf 'imageforge-tests-done count=%d\n' "$n"
