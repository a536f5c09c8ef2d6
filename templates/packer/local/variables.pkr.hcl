# Inputs of the local target. The C# side (ImageForge.Providers.Local) passes them with a generated var file;
# every value is a string. Packer 1.6.6's variable validation knows few functions (no regex), so the stage scripts
# check formats again before using anything.

variable "build_id" {
  type        = string
  description = "ImageForge build id; recorded in manifest.json."
}

variable "image_name" {
  type        = string
  description = "Image definition name; recorded in manifest.json."
}

variable "suite" {
  type        = string
  default     = "bullseye"
  description = "Debian suite or codename to bootstrap."
}

variable "mirror" {
  type        = string
  default     = "http://deb.debian.org/debian"
  description = "Debian archive URL, without credentials (see mirror_auth)."
}

variable "security_mirror" {
  type        = string
  default     = "http://deb.debian.org/debian-security"
  description = "Debian security archive URL."
}

variable "security_updates" {
  type        = string
  default     = "true"
  description = "\"true\" adds <suite>-security from security_mirror to the bootstrap sources."

  validation {
    condition     = contains(["true", "false"], var.security_updates)
    error_message = "The security_updates variable must be \"true\" or \"false\"."
  }
}

variable "variant" {
  type        = string
  default     = "minbase"
  description = "mmdebstrap variant."

  validation {
    condition     = contains(["essential", "apt", "required", "minbase", "buildd", "important", "standard"], var.variant)
    error_message = "The variant variable must be one of essential, apt, required, minbase, buildd, important, standard."
  }
}

variable "packages_add" {
  type        = string
  default     = ""
  description = "Space-separated packages installed at bootstrap (part of the base cache key)."
}

variable "packages_remove" {
  type        = string
  default     = ""
  description = "Space-separated packages purged after the base is extracted."
}

variable "work_dir" {
  type        = string
  description = "Per-build scratch directory (absolute). Everything temporary goes below it."

  validation {
    condition     = substr(var.work_dir, 0, 1) == "/" && var.work_dir != "/"
    error_message = "The work_dir variable must be an absolute path other than /."
  }
}

variable "cache_dir" {
  type        = string
  description = "Directory shared across builds (absolute); bootstrapped bases live in <cache_dir>/base."

  validation {
    condition     = substr(var.cache_dir, 0, 1) == "/" && var.cache_dir != "/"
    error_message = "The cache_dir variable must be an absolute path other than /."
  }
}

variable "output_dir" {
  type        = string
  description = "Directory for the final artifacts (absolute)."

  validation {
    condition     = substr(var.output_dir, 0, 1) == "/" && var.output_dir != "/"
    error_message = "The output_dir variable must be an absolute path other than /."
  }
}

variable "hardening_dir" {
  type        = string
  description = "Hardening scripts to run inside the image, e.g. <repo>/hardening/cis/debian-11."
}

variable "scap_datastream" {
  type        = string
  description = "SCAP source datastream to scan with (absolute), e.g. /usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml."

  validation {
    condition     = substr(var.scap_datastream, 0, 1) == "/"
    error_message = "The scap_datastream variable must be an absolute path."
  }
}

variable "scap_profile" {
  type        = string
  description = "XCCDF profile id to evaluate; the tailored profile's id when scap_tailoring is set."
}

variable "scap_tailoring" {
  type        = string
  default     = ""
  description = "XCCDF tailoring file (absolute) written by ImageForge from the baseline's tailoring section, or empty."
}

variable "disk_size" {
  type        = string
  default     = "1G"
  description = "Size of the disk (disk.raw), a whole number of MiB: e.g. 1G, 2G, 1536M."
}

variable "disk_layout" {
  type        = string
  default     = "single"
  description = "Partition layout: single (ESP + root) or cis (/tmp, /var, /var/log, /var/log/audit, /home on their own)."

  validation {
    condition     = contains(["single", "cis"], var.disk_layout)
    error_message = "The disk_layout variable must be single or cis."
  }
}

variable "disk_formats" {
  type        = string
  default     = "raw,vhd,tar-gz"
  description = "Comma-separated formats the disk is written in: raw (always), vhd (fixed VHD), tar-gz (GNU tar of disk.raw, gzip)."
}

variable "flavours" {
  type        = string
  default     = ""
  description = "Flavours of the disk, space-separated name:formats:packages entries (formats and packages comma-separated, e.g. azure:raw,vhd:waagent): the hardened tree with the packages added, written as disk-<name>.<format>. Empty: none."
}

variable "boot_packages" {
  type        = string
  default     = "systemd-sysv udev dbus cloud-init cloud-guest-utils isc-dhcp-client"
  description = "Space-separated packages every bootable disk needs (init, device manager, first boot, DHCP); part of the base cache key."
}

variable "kernel_package" {
  type        = string
  default     = "linux-image-cloud-amd64"
  description = "The kernel (with its initramfs) installed at bootstrap; part of the base cache key."
}

variable "boot_test" {
  type        = string
  default     = "true"
  description = "\"true\" boots the exported disk under qemu (OVMF) and records boot-test evidence; \"false\" skips it."

  validation {
    condition     = contains(["true", "false"], var.boot_test)
    error_message = "The boot_test variable must be \"true\" or \"false\"."
  }
}

variable "boot_test_timeout" {
  type        = string
  default     = "300"
  description = "Seconds the boot test waits for the marker before it stops the guest and records a failure."
}

variable "image_tests_file" {
  type        = string
  default     = ""
  description = "The definition's image tests, one check per line (kind, subject, expected; tab-separated), run by the boot test inside the booted guest; \"\" for none."
}

variable "mirror_auth" {
  type        = string
  default     = ""
  sensitive   = true
  description = "login:password for a mirror behind HTTP basic auth. Used for the bootstrap only."
}
