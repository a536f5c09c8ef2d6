# ImageForge local target: a Debian root filesystem built by mmdebstrap, hardened, inventoried and exported as
# rootfs.tar.zst and a raw ext4 disk. Runs on the machine itself (null builder, shell-local provisioners).
#
# Valid on Packer 1.6.6 and on current Packer. No `packer {}` block here: the C# side adds required_plugins only
# where the installed Packer supports it. See docs/local-target.md.

locals {
  scripts = "${path.root}/scripts"

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

  # 2. Hardening rules (apply, then audit) -> hardening-report.tsv.
  provisioner "shell-local" {
    script          = "${local.scripts}/harden.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, [
      "IMAGEFORGE_HARDENING_DIR=${var.hardening_dir}",
    ])
  }

  # 2b. OpenSCAP scan of the hardened tree -> compliance-after-results.xml / -report.html.
  provisioner "shell-local" {
    script          = "${local.scripts}/scan.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, local.scan_env, [
      "IMAGEFORGE_SCAN_PHASE=after",
    ])
  }

  # 3. Package inventory -> packages.tsv.
  provisioner "shell-local" {
    script           = "${local.scripts}/inventory.sh"
    execute_command  = local.execute_command
    environment_vars = local.common_env
  }

  # 4. Clean and export -> rootfs.tar.zst, disk.raw and the .sha256 files.
  provisioner "shell-local" {
    script          = "${local.scripts}/export.sh"
    execute_command = local.execute_command
    environment_vars = concat(local.common_env, [
      "IMAGEFORGE_DISK_SIZE=${var.disk_size}",
    ])
  }

  post-processors {
    post-processor "artifice" {
      files = [
        "${var.output_dir}/rootfs.tar.zst",
        "${var.output_dir}/disk.raw",
        "${var.output_dir}/packages.tsv",
        "${var.output_dir}/hardening-report.tsv",
        "${var.output_dir}/compliance-before-results.xml",
        "${var.output_dir}/compliance-before-report.html",
        "${var.output_dir}/compliance-after-results.xml",
        "${var.output_dir}/compliance-after-report.html",
      ]
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
