#!/usr/bin/env bash
# Lines per verb: non-comment lines in src/ and tests/ that define or dispatch one of the 16
# verbs (`fn <verb>`, a `Call::<Variant>` line, the variant's declaration; in tests, the
# strategies' and match arms' variant lines and the tests' own verb enums). Scripts that only
# use a verb are not counted. HOMONYMS=skip drops same-name non-verbs (Out::send, Member,
# the checker's run, ...). Usage: tools/lines_per_verb.sh [TREE]; for a commit:
#   git archive COMMIT src tests | tar -x -C DIR && tools/lines_per_verb.sh DIR
cd "${1:-.}"
nc() { grep -vE '^[^:]*:\s*//' | { if [ "${HOMONYMS:-}" = skip ]; then grep -vE '^src/(protocol/|udp/member.rs|udp/runtime.rs|check/|experiment/|bin/)|^src/whatif.rs:.*\bfn '; else cat; fi; } | cut -d: -f2-; }
src_decl=$(grep -rlE --include='*.rs' 'enum Call\b' src); test_decl=$(grep -rlE --include='*.rs' 'enum (Call|Verb)\b' tests); total=0
while read -r verb fns variants; do
  n=$( { grep -rHE "\bfn ($fns)\b|\bCall::($variants)\b" src --include='*.rs' | nc;
         [ -n "$src_decl" ] && grep -hE "^\s*($variants)\s*([{(,]|$)" $src_decl;
         grep -rHE "\bfn ($fns)\b" tests --include='*.rs' | nc;
         grep -rHE "\b(Call|Verb)::($variants)\b" tests --include='*.rs' | nc | grep -E '=>|prop_map|^\s*\|';
         [ -n "$test_decl" ] && grep -hE "^\s*($variants)\s*([{(,]|$)" $test_decl; } | wc -l)
  printf '%-18s %3d\n' "$verb" "$n"; total=$((total + n))
done <<'T'
send send Send
broadcast broadcast Broadcast
replicate replicate Replicate
replicate_from replicate_from ReplicateFrom
sync sync Sync
crash crash Crash
recover recover Recover
crash_at crash_at CrashAt|CrashLater
recover_at recover_at RecoverAt
partition partition Partition
partition_one_way partition_one_way|one_way PartitionOneWay|OneWay
heal heal Heal
post post Post
step step Step
run run Run
run_until run_until RunUntil
T
printf '%-18s %3d  (%.1f per verb)\n' total "$total" "$(echo "$total/16" | bc -l)"
