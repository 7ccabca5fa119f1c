# The experiments' specs: one file per experiment with every setting it runs under (aqbench.spec),
# written from the validated profile and handed to its verb (`aqbench run-lithops --spec FILE ...`).
# Kept as the record of what ran. The spec is this rule's `params` value, so Snakemake's params
# trigger rewrites it, and reruns the experiment after it, when that experiment's settings change,
# and only then. See one by hand: `snakemake -c1 results/<profile>/specs/lithops/memory.json`.


rule experiment_spec:
    output:
        spec=f"{RESULTS}/specs/{{engine}}/{{experiment}}.json",
    log:
        f"{LOGS}/experiment_spec/{{engine}}/{{experiment}}.log",
    wildcard_constraints:
        engine="|".join(EXPERIMENTS),
        experiment="|".join(sorted({name for names in EXPERIMENTS.values() for name in names})) or "none",
    localrule: True
    conda:
        ENV
    params:
        spec=lambda w: experiment_spec(w.engine)(w),
    shell:
        "printf '%s' {params.spec:q} > {output.spec} 2> {log}"
