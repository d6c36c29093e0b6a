//! Declared parameters of the backup routes: `vzdump` and the cluster's backup jobs (which
//! share the vzdump options), and the backup property strings PVE names.

pub(super) const DECL: &str = r##"
[POST /nodes/{node}/vzdump]
job-id? str len=..50 re=\S+
stdout? bool
@vzdump-options

[GET /cluster/backup]

[POST /cluster/backup]
comment? str len=..512
dow? str fmt=pve-day-of-week-list requires=starttime
enabled? bool
id? str fmt=pve-configid
repeat-missed? bool
schedule? str len=..128 fmt=pve-calendar-event
starttime? str re=\d{1,2}:\d{1,2}
@vzdump-options

[GET /cluster/backup/{id}]
id str len=..50 re=\S+

[PUT /cluster/backup/{id}]
comment? str len=..512
delete? str fmt=pve-configid-list
dow? str fmt=pve-day-of-week-list requires=starttime
enabled? bool
id str len=..50 re=\S+
repeat-missed? bool
schedule? str len=..128 fmt=pve-calendar-event
starttime? str re=\d{1,2}:\d{1,2}
@vzdump-options

[DELETE /cluster/backup/{id}]
id str len=..50 re=\S+

[GET /cluster/backup/{id}/included_volumes]
id str len=..50 re=\S+

[GET /cluster/backup-info]

[GET /cluster/backup-info/not-backed-up]

[group vzdump-options]
all? bool
bwlimit? int 0..
compress? str enum=0|1|gzip|lzo|zstd
dumpdir? str
exclude-path? array
exclude? str fmt=pve-vmid-list
fleecing? str fmt=backup-fleecing
ionice? int 0..8
lockwait? int 0..
mailnotification? str enum=always|failure
mailto? str fmt=email-or-username-list
maxfiles? int 1..
mode? str enum=snapshot|suspend|stop
node? str fmt=pve-node
notes-template? str len=..1024 requires=storage
notification-mode? str enum=auto|legacy-sendmail|notification-system
pbs-change-detection-mode? str enum=legacy|data|metadata
performance? str fmt=backup-performance
pigz? int
pool? str
protected? bool requires=storage
prune-backups? str fmt=prune-backups
quiet? bool
remove? bool
script? str
stdexcludes? bool
stop? bool
stopwait? int 0..
storage? str fmt=pve-storage-id
tmpdir? str
vmid? str fmt=pve-vmid-list
zstd? int

[props backup-fleecing]
enabled? bool key
storage? str fmt=pve-storage-id

[props backup-performance]
max-workers? int 1..256
pbs-entries-max? int 1..

[props prune-backups]
keep-all? bool
keep-daily? int 1..
keep-hourly? int 1..
keep-last? int 1..
keep-monthly? int 1..
keep-weekly? int 1..
keep-yearly? int 1..
"##;
