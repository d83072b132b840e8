# shellcheck shell=bash
# Results of a bench script as rows "setup<TAB>metric<TAB>round<TAB>value" in $RESULTS (set it before use),
# and medians over rounds. Source it after setting RESULTS.

# record setup metric round value
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RESULTS"; }

# median setup metric: the median over rounds of a metric, or "-" when none was recorded.
median() {
    awk -F'\t' -v s="$1" -v m="$2" '$1 == s && $2 == m && $4 != "" { print $4 }' "$RESULTS" 2> /dev/null | sort -g | awk '
        { v[NR] = $1 }
        END { if (NR == 0) { print "-" } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# values setup metric: every round's value, space-separated (for "median of a b c" lines).
values() {
    awk -F'\t' -v s="$1" -v m="$2" '$1 == s && $2 == m { printf "%s%s", (n++ ? " " : ""), $4 }' "$RESULTS" 2> /dev/null
}

# kv line key: the value of key=value in a line of key=value pairs.
kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<< "$1"; }

# fmt printf-format value: the value formatted, or "-" as is.
fmt() {
    if [[ -z "$2" || "$2" == - ]]; then echo -; else printf "$1" "$2"; fi
}
