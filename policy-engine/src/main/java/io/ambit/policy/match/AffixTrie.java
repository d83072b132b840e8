package io.ambit.policy.match;

import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * Answers "does any stored string start (or end) with ..." in one walk over the input, whatever the
 * number of stored strings. Nodes live in flat arrays; children are sorted so a step is a binary search.
 */
final class AffixTrie {
    private final boolean suffix;
    private final char[][] labels;
    private final int[][] children;
    private final boolean[] terminal;

    private AffixTrie(boolean suffix, char[][] labels, int[][] children, boolean[] terminal) {
        this.suffix = suffix;
        this.labels = labels;
        this.children = children;
        this.terminal = terminal;
    }

    /** Builds a trie of prefixes (suffix = false) or of suffixes, matched from the end (suffix = true). */
    static AffixTrie of(List<String> affixes, boolean suffix) {
        // Build with maps, then freeze into arrays.
        var nodes = new java.util.ArrayList<TreeMap<Character, Integer>>();
        var term = new java.util.ArrayList<Boolean>();
        nodes.add(new TreeMap<>());
        term.add(false);
        for (String a : affixes) {
            int n = 0;
            for (int i = 0; i < a.length(); i++) {
                char c = a.charAt(suffix ? a.length() - 1 - i : i);
                Integer next = nodes.get(n).get(c);
                if (next == null) {
                    next = nodes.size();
                    nodes.get(n).put(c, next);
                    nodes.add(new TreeMap<>());
                    term.add(false);
                }
                n = next;
            }
            term.set(n, true);
        }
        int size = nodes.size();
        var labels = new char[size][];
        var children = new int[size][];
        var terminal = new boolean[size];
        for (int n = 0; n < size; n++) {
            var m = nodes.get(n);
            labels[n] = new char[m.size()];
            children[n] = new int[m.size()];
            int i = 0;
            for (var e : m.entrySet()) {
                labels[n][i] = e.getKey();
                children[n][i] = e.getValue();
                i++;
            }
            terminal[n] = term.get(n);
        }
        return new AffixTrie(suffix, labels, children, terminal);
    }

    boolean matches(String s) {
        int n = 0;
        if (terminal[0]) {
            return true;
        }
        int len = s.length();
        for (int i = 0; i < len; i++) {
            char c = s.charAt(suffix ? len - 1 - i : i);
            int k = Arrays.binarySearch(labels[n], c);
            if (k < 0) {
                return false;
            }
            n = children[n][k];
            if (terminal[n]) {
                return true;
            }
        }
        return false;
    }
}
