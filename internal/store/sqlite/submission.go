package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Submission is a drill run submitted to the server, as stored.
type Submission struct {
	ID          string
	State       string
	FileName    string
	Drill       []byte
	DrillSHA256 string
	Submitter   bulwark.Principal
	SubmittedAt time.Time
	RunID       string
	Reasons     []string
}

// SubmissionStore keeps run submissions.
type SubmissionStore struct{ db *DB }

// NewSubmissionStore returns the submissions kept in db.
func NewSubmissionStore(db *DB) *SubmissionStore { return &SubmissionStore{db: db} }

// PutSubmission inserts or replaces a submission.
func (s *SubmissionStore) PutSubmission(ctx context.Context, sub Submission) error {
	who, err := json.Marshal(sub.Submitter)
	if err != nil {
		return err
	}
	reasons, err := json.Marshal(append([]string{}, sub.Reasons...))
	if err != nil {
		return err
	}
	return s.db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO run_submissions
			(id, state, file_name, drill, drill_sha256, submitter, submitted_at, run_id, reasons, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET state = excluded.state, run_id = excluded.run_id,
				reasons = excluded.reasons, updated_at = excluded.updated_at`,
			sub.ID, sub.State, sub.FileName, sub.Drill, sub.DrillSHA256, string(who),
			bulwark.FormatTime(sub.SubmittedAt), sub.RunID, string(reasons), bulwark.FormatTime(tx.now))
		return err
	})
}

// Submissions returns the submissions in state, oldest first.
func (s *SubmissionStore) Submissions(ctx context.Context, state string) ([]Submission, error) {
	var out []Submission
	err := s.db.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, state, file_name, drill, drill_sha256, submitter, submitted_at, run_id, reasons
			FROM run_submissions WHERE state = ? ORDER BY submitted_at, id`, state)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sub Submission
			var who, at, reasons string
			if err := rows.Scan(&sub.ID, &sub.State, &sub.FileName, &sub.Drill, &sub.DrillSHA256, &who, &at, &sub.RunID, &reasons); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(who), &sub.Submitter); err != nil {
				return fmt.Errorf("submission %s: submitter: %w", sub.ID, err)
			}
			if err := json.Unmarshal([]byte(reasons), &sub.Reasons); err != nil {
				return fmt.Errorf("submission %s: reasons: %w", sub.ID, err)
			}
			if sub.SubmittedAt, err = time.Parse(bulwark.TimeLayout, at); err != nil {
				return err
			}
			out = append(out, sub)
		}
		return rows.Err()
	})
	return out, err
}
