# ImageForge local target: a Debian root filesystem built by mmdebstrap, hardened, inventoried and exported as
# rootfs.tar.zst and a bootable GPT/UEFI disk (raw, fixed VHD, tar.gz), which a boot test then boots under qemu.
# Runs on the machine itself (null builder, shell-local provisioners).
#
# Valid on Packer 1.6.6 and on current Packer. No `packer {}` block here: the C# side adds required_plugins only
# where the installed Packer supports it. See docs/local-target.md.

locals {
  scripts      = "${path.root}/scripts"
  disk_formats = split(",", var.disk_formats)

  # Each flavour as [name, formats, packages]; its files are disk-<name>.raw (+ .vhd, .tar.gz) and
  # disk-<name>.packages (what it added, from dpkg).
  flavours = [for entry in compact(split(" ", var.flavours)) : split(":", entry)]
  flavour_files = flatten([for f in local.flavours : concat(
    ["${var.output_dir}/disk-${f[0]}.raw", "${var.output_dir}/disk-${f[0]}.packages"],
    contains(split(",", f[1]), "vhd") ? ["${var.output_dir}/disk-${f[0]}.vhd"] : [],
    contains(split(",", f[1]), "tar-gz") ? ["${var.output_dir}/disk-${f[0]}.tar.gz"] : [],
  )])

  # `{{.Vars}} exec ...`: the variables (mirror_auth among them) reach the script through its environment only.
  # Packer's default `/bin/sh -c "{{.Vars}} {{.Script}}"` keeps a shell alive whose command line (visible in ps)
  # holds every value. `/bin/bash` runs the script, so it needs no executable bit.
  execute_command = ["/bin/sh", "-c", "{{.Vars}} exec /bin/bash {{.Script}}"]

  common_env = [
    "IMAGEFORGE_BUILD_ID=${var.build_id}",
    "IMAGEFORGE_IMAGE_NAME=${var.image_name}",
    "IMAGEFORGE_WORK_DIR=${var.work_dir}",
    "IMAGEFORGE_OUTPUT_DIR=${var.output_dir}",
  ]

  scan_env = [
    "IMAGEFORGE_SCAP_DATASTREAM=${var.scap_datastream}",
    "IMAGEFORGE_SCAP_PROFILE=${var.scap_profile}",
    "IMAGEFORGE_SCAP_TAILORING=${var.scap_tailoring}",
    "IMAGEFORGE_CACHE_DIR=${var.cache_dir}",
  ]
}

source "null" "local" {
  communicator = "none"
}

build {
  sources = ["source.null.local"]

  # 1. Base root filesystem: cached mmdebstrap tar -> <work_dir>/rootfs, then packages_remove purged.
  provisioner "shell-local" {
    script          = "${local.scripts}/bootstrap.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, [
      "IMAGEFORGE_SUITE=${var.suite}",
      "IMAGEFORGE_MIRROR=${var.mirror}",
      "IMAGEFORGE_SECURITY_MIRROR=${var.security_mirror}",
      "IMAGEFORGE_SECURITY_UPDATES=${var.security_updates}",
      "IMAGEFORGE_VARIANT=${var.variant}",
      "IMAGEFORGE_PACKAGES_ADD=${var.packages_add}",
      "IMAGEFORGE_BOOT_PACKAGES=${var.boot_packages}",
      "IMAGEFORGE_KERNEL_PACKAGE=${var.kernel_package}",
      "IMAGEFORGE_PACKAGES_REMOVE=${var.packages_remove}",
      "IMAGEFORGE_CACHE_DIR=${var.cache_dir}",
      "IMAGEFORGE_MIRROR_AUTH=${var.mirror_auth}",
    ])
  }

  # 2a. OpenSCAP scan of the base, through a read-only bind mount -> compliance-before-results.xml / -report.html.
  provisioner "shell-local" {
    script          = "${local.scripts}/scan.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, local.scan_env, [
      "IMAGEFORGE_SCAN_PHASE=before",
    ])
  }

  # Disk layout: partitions and identifiers -> <work_dir>/disk/layout.tsv; /etc/fstab and first-boot configuration.
  # Before the hardening, so its audit and the scan after it see the fstab the disk really uses.
  provisioner "shell-local" {
    script          = "${local.scripts}/disk-layout.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, [
      "IMAGEFORGE_DISK_LAYOUT=${var.disk_layout}",
      "IMAGEFORGE_DISK_SIZE=${var.disk_size}",
    ])
  }

  # 2. Hardening rules (apply, then audit) -> hardening-report.tsv.
  provisioner "shell-local" {
    script          = "${local.scripts}/harden.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, [
      "IMAGEFORGE_HARDENING_DIR=${var.hardening_dir}",
    ])
  }

  # 3. Package inventory -> packages.tsv.
  provisioner "shell-local" {
    script           = "${local.scripts}/inventory.sh"
    execute_command  = local.execute_command
    environment_vars = local.common_env
  }

  # Clean: what must not ship leaves the tree (apt lists, build logs, SSH host keys...). The tree is final from here.
  provisioner "shell-local" {
    script           = "${local.scripts}/clean.sh"
    execute_command  = local.execute_command
    environment_vars = local.common_env
  }

  # 2b. OpenSCAP scan of the hardened, cleaned tree through the disk's mount table -> compliance-after-*.
  provisioner "shell-local" {
    script          = "${local.scripts}/scan.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, local.scan_env, [
      "IMAGEFORGE_SCAN_PHASE=after",
    ])
  }

  # Facts of the finished tree, before the export releases it: what it trusts, runs and lets in, and its size ->
  # image-facts.json (anomalies; the disk's size comes from the disk artifact).
  provisioner "shell-local" {
    script           = "${local.scripts}/facts.sh"
    execute_command  = local.execute_command
    environment_vars = local.common_env
  }

  # Flavours (only with flavours set): per flavour a copy of the finished tree, its packages installed in a chroot with
  # the bootstrap's apt sources, cleaned again, written as its own disk -> disk-<name>.raw (+ formats), .packages.
  provisioner "shell-local" {
    script          = "${local.scripts}/flavours.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, [
      "IMAGEFORGE_FLAVOURS=${var.flavours}",
      "IMAGEFORGE_MIRROR_AUTH=${var.mirror_auth}",
    ])
  }

  # 4. Clean and export -> rootfs.tar.zst, disk.raw (+ disk.vhd, disk.tar.gz), disk.json and the .sha256 files.
  provisioner "shell-local" {
    script          = "${local.scripts}/export.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, [
      "IMAGEFORGE_DISK_FORMATS=${var.disk_formats}",
    ])
  }

  # 5. Boot test: qemu boots an overlay of disk.raw -> boot-test.json, boot-test-console.log and, with image tests,
  #    image-tests.json (unless boot_test false).
  provisioner "shell-local" {
    script          = "${local.scripts}/boot-test.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, [
      "IMAGEFORGE_BOOT_TEST=${var.boot_test}",
      "IMAGEFORGE_BOOT_TEST_TIMEOUT=${var.boot_test_timeout}",
      "IMAGEFORGE_IMAGE_TESTS=${var.image_tests_file}",
      "IMAGEFORGE_CACHE_DIR=${var.cache_dir}",
    ])
  }

  post-processors {
    post-processor "artifice" {
      files = concat(
        [
          "${var.output_dir}/rootfs.tar.zst",
          "${var.output_dir}/disk.raw",
          "${var.output_dir}/disk.json",
          "${var.output_dir}/packages.tsv",
          "${var.output_dir}/hardening-report.tsv",
          "${var.output_dir}/compliance-before-results.xml",
          "${var.output_dir}/compliance-before-report.html",
          "${var.output_dir}/compliance-after-results.xml",
          "${var.output_dir}/compliance-after-report.html",
          "${var.output_dir}/image-facts.json",
        ],
        contains(local.disk_formats, "vhd") ? ["${var.output_dir}/disk.vhd"] : [],
        contains(local.disk_formats, "tar-gz") ? ["${var.output_dir}/disk.tar.gz"] : [],
        var.boot_test == "true" ? ["${var.output_dir}/boot-test.json", "${var.output_dir}/boot-test-console.log"] : [],
        var.boot_test == "true" && var.image_tests_file != "" ? ["${var.output_dir}/image-tests.json"] : [],
        local.flavour_files,
      )
    }

    post-processor "manifest" {
      output     = "${var.output_dir}/manifest.json"
      strip_path = false
      custom_data = {
        build_id   = var.build_id
        image_name = var.image_name
        suite      = var.suite
      }
    }
  }
}
