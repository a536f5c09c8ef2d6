-- Builds that require KVM (docs/cluster.md, "Requiring KVM"): a definition's boot_test_kvm: required is copied into
-- the build when it is queued (a claim never reads definitions), and only a worker whose KVM probe passed claims it.
ALTER TABLE builds ADD COLUMN requires_kvm INTEGER NOT NULL DEFAULT 0 CHECK (requires_kvm IN (0, 1));
